/* 梳理 (the triage queue): keyboard shortcuts and "select all" on top of a plain form.
 * Without this script the page is still a form of checkboxes, radio buttons and a submit
 * button; these are conveniences only:
 *   j / k  next / previous concern      x  tick or untick the current concern
 *   a  采纳建议   f  立案并交办   m  并案   t  思想工作   d  不予立案
 * Keys typed into a text box, a list or the reason are left alone. */
(function () {
  "use strict";
  var form = document.getElementById("triage-form");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(form.querySelectorAll(".concern-row"));
  var picked = document.getElementById("picked");
  var current = -1;

  function boxes() {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="concern"]'));
  }

  function refresh() {
    var n = 0;
    boxes().forEach(function (box) {
      var row = box.closest(".concern-row");
      if (row) { row.classList.toggle("picked", box.checked); }
      if (box.checked) { n += 1; }
    });
    if (picked) { picked.textContent = picked.getAttribute("data-template").replace("{n}", n); }
    var chosen = form.querySelector('input[name="action"]:checked');
    var action = chosen ? chosen.value : "";
    Array.prototype.forEach.call(form.querySelectorAll("[data-for]"), function (el) {
      var wanted = el.getAttribute("data-for").split(" ");
      el.classList.toggle("inactive", action !== "" && wanted.indexOf(action) < 0);
    });
  }

  function move(to) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, to));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    var box = rows[current].querySelector('input[name="concern"]');
    if (box) { box.focus(); }
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    return tag === "INPUT" && ["checkbox", "radio", "submit", "button"].indexOf(target.type) < 0;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (key === "j" || key === "k") {
      if (current < 0) {
        var focused = event.target.closest ? event.target.closest(".concern-row") : null;
        current = focused ? rows.indexOf(focused) : -1;
      }
      move(key === "j" ? current + 1 : current - 1);
    } else if (key === "x") {
      if (current < 0) { move(0); }
      var box = rows[current] && rows[current].querySelector('input[name="concern"]');
      if (box) { box.checked = !box.checked; refresh(); }
    } else {
      var radio = form.querySelector('input[name="action"][data-key="' + key + '"]');
      if (!radio) { return; }
      radio.checked = true;
      refresh();
    }
    event.preventDefault();
  });

  Array.prototype.forEach.call(form.querySelectorAll("[data-select]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var all = link.getAttribute("data-select") === "all";
      boxes().forEach(function (box) { box.checked = all; });
      refresh();
    });
  });
  rows.forEach(function (row, i) {
    row.addEventListener("focusin", function () {
      current = i;
      rows.forEach(function (other, j) { other.classList.toggle("current", j === i); });
    });
  });
  form.addEventListener("change", refresh);
  refresh();
})();
