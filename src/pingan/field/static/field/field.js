/* pingan field pages: the visit draft, the outbox and the upload. Plain JS, no framework.
 *
 * - The visit uuid is made when the form first opens and kept in the draft, so a reload or
 *   a retry always sends the same uuid: the server then answers "duplicate", never a second visit.
 * - The draft (everything typed) is saved to localStorage on every change and restored on load.
 * - Submitting puts the finished visit in the outbox first, then posts the outbox to
 *   /api/v1/visits/sync with the session and the CSRF token. What cannot be sent stays in the
 *   outbox and is retried on the `online` event and on every field page load.
 */
(function () {
  "use strict";

  var SYNC_URL = "/api/v1/visits/sync";
  var OUTBOX_KEY = "pingan.field.outbox";
  var DEVICE_KEY = "pingan.field.device";
  var DRAFT_PREFIX = "pingan.field.draft.";
  var APP_VERSION = "field-web-1";

  var messagesEl = document.getElementById("field-messages");
  function msg(name, values) {
    var text = (messagesEl && messagesEl.dataset[name]) || name;
    Object.keys(values || {}).forEach(function (key) {
      text = text.replace("{" + key + "}", values[key]);
    });
    return text;
  }

  // ---- storage --------------------------------------------------------------------------
  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function store(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch (e) {
      return false;
    }
  }
  function forget(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing to do */ }
  }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* The phone's clock, moved by the server's demo-clock offset (always 0 outside the demo,
     so a real visit is dated by the phone itself). */
  var CLOCK_OFFSET_MS = parseInt(document.body.getAttribute("data-clock-offset-ms"), 10) || 0;
  function clockNow() { return new Date(Date.now() + CLOCK_OFFSET_MS); }

  /* 2021-10-18T09:00:00+08:00: the phone's local time with its offset. */
  function isoLocal(date) {
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    var offset = -date.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var abs = Math.abs(offset);
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
      sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  function deviceId() {
    var id = load(DEVICE_KEY, null);
    if (!id) {
      id = newUuid();
      store(DEVICE_KEY, id);
    }
    return id;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // ---- outbox ---------------------------------------------------------------------------
  // {uuid: payload}. A payload never changes once it is in the outbox.
  function outbox() { return load(OUTBOX_KEY, {}); }
  function outboxPut(payload) {
    var box = outbox();
    box[payload.uuid] = payload;
    return store(OUTBOX_KEY, box);
  }
  function outboxRemove(uuid) {
    var box = outbox();
    delete box[uuid];
    store(OUTBOX_KEY, box);
  }

  var listeners = [];  // the form listens for the results of its own visit
  var flushing = null;

  function showOutboxStatus(text) {
    var el = document.getElementById("outbox-status");
    if (!el) return;
    var pending = Object.keys(outbox()).length;
    var shown = text || (pending ? msg("pending", { n: pending }) : "");
    el.textContent = shown;
    el.hidden = !shown;
  }

  /* Apply one server result to the draft of its household (the draft outlives the page). */
  function settle(result, payload) {
    var draftKey = DRAFT_PREFIX + payload.household_id;
    var draft = load(draftKey, null);
    var mine = draft && draft.uuid === payload.uuid;
    if (result.status === "created" || result.status === "duplicate") {
      if (mine) forget(draftKey);
    } else if (mine) {
      draft.queued = false;
      if (result.status === "rejected") {
        draft.errors = result.errors || [];
        draft.notice = "rejected";
      } else {
        // conflict: the stored visit stays; a corrected visit is a new one with a new uuid.
        draft.errors = [];
        draft.notice = "conflict";
        draft.uuid = newUuid();
      }
      store(draftKey, draft);
    }
    outboxRemove(payload.uuid);
    listeners.forEach(function (listener) { listener(result, payload); });
  }

  function flush() {
    if (flushing) return flushing;
    var box = outbox();
    var payloads = Object.keys(box).map(function (k) { return box[k]; }).slice(0, 200);
    if (!payloads.length) {
      showOutboxStatus();
      return Promise.resolve(null);
    }
    if (!csrfToken()) {
      showOutboxStatus();
      return Promise.resolve(null);
    }
    flushing = fetch(SYNC_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ visits: payloads })
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        showOutboxStatus(msg("auth"));
        return "auth";
      }
      if (!response.ok) {
        showOutboxStatus(msg("queued"));
        return "offline";
      }
      return response.json().then(function (body) {
        var byUuid = {};
        payloads.forEach(function (p) { byUuid[p.uuid] = p; });
        (body.results || []).forEach(function (result) {
          if (result.uuid && byUuid[result.uuid]) settle(result, byUuid[result.uuid]);
        });
        showOutboxStatus();
        return "done";
      });
    }).catch(function () {
      showOutboxStatus(msg("queued"));
      return "offline";
    }).then(function (state) {
      flushing = null;
      return state;
    });
    return flushing;
  }

  window.addEventListener("online", flush);

  // ---- typed text of the plain forms (反馈群众 reason, 思想工作 notes) --------------------
  // Kept on the phone while typing, so a lost signal on sending costs nothing: a textarea
  // with `data-draft` gets back what was typed when the page opens again empty. The page the
  // server answers a success with names the draft it received (`data-drafts-saved`).
  var TEXT_PREFIX = "pingan.field.text.";
  var savedEl = document.querySelector("[data-drafts-saved]");
  var savedKey = savedEl && savedEl.getAttribute("data-drafts-saved");
  if (savedKey) forget(TEXT_PREFIX + savedKey);
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-draft]"), function (area) {
    var key = TEXT_PREFIX + area.getAttribute("data-draft");
    var kept = load(key, "");
    if (!area.value && kept) {
      area.value = kept;
      var note = document.createElement("p");
      note.className = "draft-restored";
      note.textContent = msg("restored");
      area.parentNode.insertBefore(note, area.nextSibling);
    }
    area.addEventListener("input", function () {
      if (area.value.trim()) store(key, area.value);
      else forget(key);
    });
  });

  // ---- the visit form -------------------------------------------------------------------
  var form = document.getElementById("visit-form");
  var configEl = document.getElementById("visit-config");
  if (!form || !configEl) {
    flush();
    return;
  }
  var config = JSON.parse(configEl.textContent);
  var draftKey = DRAFT_PREFIX + config.household_id;
  var statusEl = document.getElementById("form-status");
  var errorsEl = document.getElementById("form-errors");
  var submitButton = document.getElementById("submit");
  var problemList = document.getElementById("problem-list");
  var problemTemplate = document.getElementById("problem-template");

  function typed(d) {
    var values = (d && d.values) || {};
    return Object.keys(values).some(function (k) {
      return Array.isArray(values[k]) ? values[k].length > 0 : values[k] !== "";
    }) || ((d && d.problems) || []).some(function (p) { return p.text; });
  }
  var draft = load(draftKey, null);
  var restored = typed(draft);
  if (!draft) {
    draft = { uuid: newUuid(), started_at: isoLocal(clockNow()), values: {}, problems: [] };
  } else if (!restored && !draft.queued) {
    // Opened before but nothing was typed: the visit starts now (same uuid).
    draft.started_at = isoLocal(clockNow());
  }

  function setStatus(text, kind) {
    statusEl.textContent = text || "";
    statusEl.className = "form-status" + (kind ? " " + kind : "");
    statusEl.hidden = !text;
  }

  function outcome() {
    var checked = form.querySelector("input[name=outcome]:checked");
    return checked ? checked.value : "";
  }

  function chosen(key) {
    return Array.prototype.map.call(
      form.querySelectorAll("input[name='q:" + key + "']:checked"),
      function (input) { return input.value; }
    );
  }

  function questionShown(fieldset) {
    var parent = fieldset.dataset.showIfQuestion;
    if (!parent) return true;
    var wanted = fieldset.dataset.showIfOptions.split("|");
    var parentSet = document.getElementById("q-" + parent);
    if (parentSet && !questionShown(parentSet)) return false;
    return chosen(parent).some(function (value) { return wanted.indexOf(value) >= 0; });
  }

  function refreshVisibility() {
    var current = outcome();
    Array.prototype.forEach.call(form.querySelectorAll("[data-for-outcomes]"), function (el) {
      el.hidden = el.dataset.forOutcomes.split(" ").indexOf(current) < 0;
    });
    Array.prototype.forEach.call(form.querySelectorAll(".question"), function (fieldset) {
      fieldset.hidden = !questionShown(fieldset);
    });
    Array.prototype.forEach.call(form.querySelectorAll(".opt-text"), function (input) {
      var key = input.name.slice("qtext:".length);
      var option = form.querySelector("input[name='q:" + key + "'][data-has-text]");
      input.hidden = !(option && option.checked);
    });
  }

  // 都没有 cannot be combined with another option.
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "checkbox" || !input.checked || input.name.indexOf("q:") !== 0) return;
    Array.prototype.forEach.call(form.querySelectorAll("input[name='" + input.name + "']"),
      function (other) {
        if (other === input) return;
        if (input.dataset.exclusive || other.dataset.exclusive) other.checked = false;
      });
  });

  // ---- problems rows
  function addProblem(text, category) {
    var row = problemTemplate.content.firstElementChild.cloneNode(true);
    row.querySelector("[name=problem_text]").value = text || "";
    row.querySelector("[name=problem_category]").value = category || "";
    row.querySelector(".problem-remove").addEventListener("click", function () {
      row.remove();
      save();
    });
    problemList.appendChild(row);
    return row;
  }
  document.getElementById("problem-add").addEventListener("click", function () {
    addProblem().querySelector("textarea").focus();
    save();
  });

  function problems() {
    return Array.prototype.map.call(problemList.querySelectorAll(".problem"), function (row) {
      return {
        text: row.querySelector("[name=problem_text]").value,
        category: row.querySelector("[name=problem_category]").value
      };
    });
  }

  // ---- draft: read and write the form
  function readValues() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name.indexOf("problem_") === 0) return;
      if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
      } else if (el.type === "checkbox") {
        if (!values[el.name]) values[el.name] = [];
        if (el.checked) values[el.name].push(el.value);
      } else if (el.value !== "") {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function writeValues(values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in values)) return;
      var value = values[el.name];
      if (el.type === "radio") el.checked = value === el.value;
      else if (el.type === "checkbox") el.checked = value.indexOf(el.value) >= 0;
      else el.value = value;
    });
  }

  function save() {
    draft.values = readValues();
    draft.problems = problems();
    store(draftKey, draft);
  }

  // ---- errors next to the fields
  function clearErrors() {
    errorsEl.hidden = true;
    errorsEl.textContent = "";
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (el) {
      el.hidden = true;
      el.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll(".has-error"), function (el) {
      el.classList.remove("has-error");
    });
  }

  function showErrors(errors) {
    clearErrors();
    var general = [];
    (errors || []).forEach(function (error) {
      var loc = error.loc || [];
      var name = loc[0] === "answers" && typeof loc[1] === "string" ? "answers." + loc[1]
        : loc[0] === "problems" ? "problems" : String(loc[0] || "");
      var target = form.querySelector("[data-error-for='" + name + "']");
      if (target) {
        target.textContent = (target.textContent ? target.textContent + "；" : "") + error.msg;
        target.hidden = false;
        var box = target.closest("fieldset, section");
        if (box) box.classList.add("has-error");
      } else {
        general.push(error.msg);
      }
    });
    if (general.length) {
      errorsEl.textContent = general.join("；");
      errorsEl.hidden = false;
    }
    var first = form.querySelector(".has-error, #form-errors:not([hidden])");
    if (first && first.scrollIntoView) first.scrollIntoView({ block: "center" });
  }

  /* What the server will check anyway, said before sending. */
  function localErrors() {
    var errors = [];
    var current = outcome();
    if (!current) errors.push({ loc: ["outcome"], msg: msg("outcomeRequired") });
    if (config.with_questionnaire.indexOf(current) >= 0) {
      Array.prototype.forEach.call(form.querySelectorAll(".question[data-required]"),
        function (fieldset) {
          if (!questionShown(fieldset)) return;
          if (!answerOf(fieldset)) {
            errors.push({ loc: ["answers", fieldset.dataset.key], msg: msg("required") });
          }
        });
    }
    return errors;
  }

  function answerOf(fieldset) {
    var key = fieldset.dataset.key;
    var kind = fieldset.dataset.kind;
    if (kind === "single" || kind === "multiple") {
      var options = chosen(key);
      if (!options.length) return null;
      var answer = { question: key, options: options };
      var withText = form.querySelector("input[name='q:" + key + "'][data-has-text]:checked");
      var textInput = form.querySelector("input[name='qtext:" + key + "']");
      if (withText && textInput && textInput.value.trim()) answer.option_text = textInput.value.trim();
      return answer;
    }
    var field = form.querySelector("[name='q:" + key + "']");
    var value = field ? field.value.trim() : "";
    if (!value) return null;
    return kind === "number" ? { question: key, number: value } : { question: key, text: value };
  }

  function buildPayload() {
    var current = outcome();
    var payload = {
      uuid: draft.uuid,
      household_id: config.household_id,
      outcome: current,
      started_at: draft.started_at,
      ended_at: isoLocal(clockNow()),
      leaflet_handed: !!form.querySelector("input[name=leaflet_handed]:checked"),
      answers: [],
      problems: [],
      device_id: deviceId(),
      app_version: APP_VERSION
    };
    if (config.with_questionnaire.indexOf(current) >= 0) {
      payload.questionnaire_id = config.questionnaire_id;
      Array.prototype.forEach.call(form.querySelectorAll(".question"), function (fieldset) {
        if (!questionShown(fieldset)) return;
        var answer = answerOf(fieldset);
        if (answer) payload.answers.push(answer);
        if (answer && fieldset.dataset.key === "opinion") payload.opinion = answer.text;
      });
    }
    if (current && current !== "not_home" && current !== "vacant") {
      payload.problems = problems().filter(function (p) { return p.text.trim(); })
        .map(function (p) { return { text: p.text.trim(), category: p.category }; });
    }
    if (draft.gps) {
      payload.lat = draft.gps.lat;
      payload.lng = draft.gps.lng;
      payload.accuracy_m = draft.gps.accuracy_m;
    }
    return payload;
  }

  function lock(locked) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== "csrfmiddlewaretoken") el.disabled = locked;
    });
  }

  listeners.push(function (result, payload) {
    if (payload.household_id !== config.household_id) return;
    if (result.status === "created" || result.status === "duplicate") {
      setStatus(msg("created"), "ok");
      window.location.assign(form.dataset.historyUrl);
      return;
    }
    draft = load(draftKey, draft);
    lock(false);
    if (result.status === "rejected") {
      showErrors(result.errors);
      setStatus(msg("rejected"), "error");
    } else {
      clearErrors();
      setStatus(msg("conflict") + (result.detail ? "（" + result.detail + "）" : ""), "error");
    }
  });

  form.addEventListener("input", function () { refreshVisibility(); save(); });
  form.addEventListener("change", function () { refreshVisibility(); save(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save();
    var errors = localErrors();
    if (errors.length) {
      showErrors(errors);
      setStatus(msg("fix"), "error");
      return;
    }
    clearErrors();
    var payload = buildPayload();
    draft.queued = true;
    draft.notice = "";
    draft.errors = [];
    store(draftKey, draft);
    outboxPut(payload);
    lock(true);
    setStatus(msg("sending"), "");
    flush().then(function (state) {
      if (state === "offline") setStatus(msg("queued"), "queued");
      else if (state === "auth") setStatus(msg("auth"), "queued");
    });
  });

  // ---- start: restore, then locate, then retry what waits
  problemList.innerHTML = "";
  (draft.problems || []).forEach(function (p) { addProblem(p.text, p.category); });
  writeValues(draft.values || {});
  refreshVisibility();
  store(draftKey, draft);
  if (draft.queued) {
    lock(true);
    setStatus(msg("waiting"), "queued");
  } else if (draft.notice === "rejected") {
    showErrors(draft.errors);
    setStatus(msg("rejected"), "error");
  } else if (draft.notice === "conflict") {
    setStatus(msg("conflict"), "error");
  } else if (restored) {
    setStatus(msg("restored"), "");
  }

  var gpsStatus = document.getElementById("gps-status");
  if (!draft.gps && navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (position) {
      draft.gps = {
        lat: position.coords.latitude.toFixed(6),
        lng: position.coords.longitude.toFixed(6),
        accuracy_m: Math.round(position.coords.accuracy)
      };
      var stored = load(draftKey, null);
      if (stored && stored.uuid === draft.uuid) {
        stored.gps = draft.gps;
        store(draftKey, stored);
      }
      gpsStatus.textContent = msg("gpsOk", { m: draft.gps.accuracy_m });
    }, function () {
      gpsStatus.textContent = msg("gpsNone");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  } else if (draft.gps) {
    gpsStatus.textContent = msg("gpsOk", { m: draft.gps.accuracy_m });
  }

  flush().then(function (state) {
    if (draft.queued && state === "offline") setStatus(msg("queued"), "queued");
  });
})();
