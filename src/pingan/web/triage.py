"""梳理 (每日梳理汇总, issue 12): the town center's triage queue, at /ledger/triage/.

GET lists the concerns waiting for triage in the town center's scope, the oldest first, 50 a
page, filtered by village (村), category (类别, the concern's), source (来源: 走访, 来电, 来访)
and content (内容: only feelings such as 不太安全, which are suggested for 思想工作; a concrete
matter; an opinion): the source says how a concern came in, the content what it will likely
become, which is how the center works through a day's intake. Each concern shows its items,
its household (masked name and address only), village, visiting cadre and date, and the
suggestion of `ledger.routing.suggest` with its reason: for 立案 the category and unit of
the routing rules, for 并案 the best open problems with their scores. One `TownIndex` is built
per page (rules, open problems, village centres: read once); rows are suggested in memory.

POST takes ONE action for the concerns ticked, sent as one batch to
`ledger.triage.concerns_triage`:
- 采纳建议 (adopt): each concern its own suggestion, worked out again from a fresh index:
  思想工作; 并案 into the best candidate; 立案 with the suggested category, dispatched at once
  with the chosen type when the rules name a unit (otherwise filed only, to dispatch later).
  A concern that was decided meanwhile re-sends the outcome it got, so the service answers
  the same batch sent twice as "duplicate" instead of deciding anything again;
- 立案并交办 (file): to the chosen unit, 一般 or 复杂, the category overridden if chosen;
- 并案 (merge): into one problem, picked among the candidates or typed as its code;
- 思想工作 (talk); 不予立案 (decline), with a reason.

Every concern is answered on its own: done, or refused with the service's Chinese reason (a
stale version refuses that concern only). When some are refused the page comes back with the
user's ticks and inputs; when all are done it redirects to the queue, which shows the results.
Each form carries a submission key (a uuid): the results are kept in the session under it,
so the same form sent twice (a double click, a reload) shows the first answer again; without
the session (another browser), the service still answers a resent decision "duplicate".

Keyboard: every control is a real checkbox, radio button, label or button, and the page works
as a plain form without script. `web/triage.js` adds: j / k next / previous concern, x tick
it, a 采纳建议, f 立案并交办, m 并案, t 思想工作, d 不予立案, and "select all on this page".
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.accounts.models import Role, User
from pingan.accounts.selectors import unit_list
from pingan.ledger.models import Problem
from pingan.ledger.queue import ConcernKind, QueueFilters, concern_queue
from pingan.ledger.routing import Candidate, Suggestion, TownIndex, suggest
from pingan.ledger.selectors import problem_list
from pingan.ledger.triage import BATCH_LIMIT, Decision, DecisionResult, concerns_triage
from pingan.regions.models import Region
from pingan.regions.selectors import town_for_user, village_list
from pingan.visits.concerns import category_names
from pingan.visits.models import Concern, ConcernItem
from pingan.visits.selectors import concern_list

CONCERNS_PER_PAGE = 50
SESSION_KEY = "triage_results"
KEPT_RESULTS = 10  # submissions whose results the session keeps
FILTERS = ("village", "category", "source", "kind")

Outcome = Concern.Outcome
ACTIONS = (
    ("adopt", gettext_lazy("采纳建议")),
    (Outcome.FILE.value, gettext_lazy("立案并交办")),
    (Outcome.MERGE.value, gettext_lazy("并案")),
    (Outcome.TALK.value, gettext_lazy("思想工作")),
    (Outcome.DECLINE.value, gettext_lazy("不予立案")),
)
ACCESS_KEYS = {"adopt": "a", "file": "f", "merge": "m", "talk": "t", "decline": "d"}
ALL = ("", gettext_lazy("全部"))


class TriageFilterForm(forms.Form):
    """The queue's GET filters. Every field is optional; an invalid value is ignored."""

    village = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=gettext_lazy("村")
    )
    category = forms.ChoiceField(required=False, label=gettext_lazy("类别"))
    source = forms.ChoiceField(required=False, label=gettext_lazy("来源"))
    kind = forms.ChoiceField(required=False, label=gettext_lazy("内容"))

    def __init__(self, *args, villages, categories, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        fields["village"].choices = [ALL, *villages]
        fields["category"].choices = [ALL, *((c, c) for c in categories)]
        fields["source"].choices = [ALL, *((v, _(label)) for v, label in Concern.Source.choices)]
        fields["kind"].choices = [ALL, *((v, _(label)) for v, label in ConcernKind.LABELS.items())]

    def filters(self) -> QueueFilters:
        self.is_valid()
        chosen = getattr(self, "cleaned_data", {})  # an invalid field is left out
        return QueueFilters(
            village_id=chosen.get("village"),
            category=chosen.get("category") or "",
            source=chosen.get("source") or "",
            kind=chosen.get("kind") or "",
        )


class TriageForm(forms.Form):
    """One action for the ticked concerns (`concern` = "id:version", one per tick)."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    action = forms.ChoiceField(
        choices=ACTIONS, widget=forms.RadioSelect, label=gettext_lazy("对勾选的反映")
    )
    unit = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=gettext_lazy("责任单位")
    )
    severity = forms.ChoiceField(
        required=False,
        choices=[(v, gettext_lazy(label)) for v, label in Problem.Severity.choices],
        widget=forms.RadioSelect,
        label=gettext_lazy("问题类型"),
    )
    category = forms.ChoiceField(required=False, label=gettext_lazy("类别（不选则按建议）"))
    problem = forms.IntegerField(required=False, min_value=1)
    code = forms.CharField(required=False, max_length=32, label=gettext_lazy("或填写问题编号"))
    reason = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("理由或说明"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, units, categories, **kwargs) -> None:
        kwargs.setdefault("auto_id", "triage-%s")
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        fields["unit"].choices = [("", _("请选择")), *units]
        fields["category"].choices = [("", _("按建议")), *((c, c) for c in categories)]
        self.selected: list[tuple[int, int]] = []

    def _ticks(self) -> list[str]:
        data: QueryDict = self.data  # type: ignore[assignment]  # bound to request.POST
        return data.getlist("concern") if self.is_bound else []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            self.selected = [_token(value) for value in self._ticks()]
        except ValueError:
            self.add_error(None, _("所选反映无效，请刷新页面后重试。"))
        else:
            if not self.selected:
                self.add_error(None, _("请先勾选要梳理的反映。"))
            elif len(self.selected) > BATCH_LIMIT:
                self.add_error(None, _("一次最多梳理 %(limit)s 条反映。") % {"limit": BATCH_LIMIT})
        action = data.get("action")
        if action in ("adopt", Outcome.FILE) and not data.get("severity"):
            self.add_error("severity", _("请选择问题类型：一般问题或复杂问题。"))
        if action == Outcome.FILE and not data.get("unit"):
            self.add_error("unit", _("立案并交办须选择责任单位。"))
        if action == Outcome.MERGE and not data.get("problem") and not data.get("code"):
            self.add_error("code", _("请在候选问题中选择一个，或填写要并入的问题编号。"))
        if action == Outcome.DECLINE and not (data.get("reason") or "").strip():
            self.add_error("reason", _("不予立案须写明理由。"))
        return data

    def ticked(self) -> set[int]:
        """The concerns the user ticked (for showing the ticks again), valid or not."""
        ticked = set()
        for value in self._ticks():
            try:
                ticked.add(_token(value)[0])
            except ValueError:
                continue
        return ticked


def _token(value: str) -> tuple[int, int]:
    """ "id:version" → (id, version)."""
    concern_id, _sep, version = value.partition(":")
    return int(concern_id), int(version)


@dataclass
class QueueRow:
    concern: Concern
    items: list[ConcernItem]
    suggestion: Suggestion
    candidates: list[tuple[Candidate, str]]  # each with its village's name


def _town(user: User) -> Region:
    """The town center's own town (403 for every other role)."""
    if user.role != Role.TOWN_ADMIN:
        raise PermissionDenied
    town = town_for_user(user=user)
    if town is None:
        raise PermissionDenied
    return town


def _units(user: User) -> list[tuple[int, str]]:
    return list(
        unit_list(user=user)
        .filter(active=True)
        .order_by("sort_order", "name")
        .values_list("pk", "name")
    )


def _results(request, key: str) -> list[dict[str, Any]]:
    return request.session.get(SESSION_KEY, {}).get(key, [])


def _keep_results(request, key: str, results: list[DecisionResult]) -> list[dict[str, Any]]:
    kept = [result.as_dict() for result in results]
    stored = dict(request.session.get(SESSION_KEY, {}))
    stored[key] = kept
    request.session[SESSION_KEY] = dict(list(stored.items())[-KEPT_RESULTS:])
    return kept


def _result_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result with its outcome's label, for the page."""
    labels = dict(Outcome.choices)
    return [
        {**result, "outcome_label": _(labels[result["outcome"]]) if result.get("outcome") else ""}
        for result in results
    ]


def _page(
    request,
    *,
    user: User,
    town: Region,
    form: TriageForm | None = None,
    results: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The queue page: filters, the action form (bound after a refusal), one page of rows."""
    villages = list(village_list(user=user, town=town).values_list("pk", "name"))
    categories = category_names(town=town)
    filter_form = TriageFilterForm(request.GET, villages=villages, categories=categories)
    filters = filter_form.filters()
    if form is None:
        form = TriageForm(
            units=_units(user),
            categories=categories,
            initial={"key": uuid.uuid4().hex, "severity": Problem.Severity.GENERAL},
        )
    page = Paginator(concern_queue(user=user, filters=filters), CONCERNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    index = TownIndex(town)
    index.centres()  # read now: a page asks the same queries whatever its rows hold
    names = dict(villages)
    rows = []
    for concern in page.object_list:
        items = list(concern.items.all())
        suggestion = suggest(concern, items, index)
        candidates = [(c, names.get(c.village_id, "")) for c in suggestion.candidates]
        rows.append(QueueRow(concern, items, suggestion, candidates))
    if form.is_bound:
        ticked = form.ticked()
    elif request.GET.get("select") == "all":  # 全选本页 without script
        ticked = {row.concern.pk for row in rows}
    else:
        ticked = set()
    chosen_problem = form.data.get("problem", "") if form.is_bound else ""
    chosen_action = form["action"].value() or ""
    context = {
        "town": town,
        "filter_form": filter_form,
        "filtered": any(getattr(filters, f) for f in ("village_id", "category", "source", "kind")),
        "form": form,
        "page": page,
        "rows": rows,
        "ticked": ticked,
        "chosen_problem": str(chosen_problem),
        "actions": [(value, label, ACCESS_KEYS[value]) for value, label in ACTIONS],
        "chosen_action": chosen_action,
        "results": _result_rows(results or []),
        "refused": sum(1 for r in results or [] if r["status"] == "refused"),
        "batch_limit": BATCH_LIMIT,
    }
    return render(request, "web/triage/queue.html", context, status=status)


def _decisions(
    user: User, town: Region, form: TriageForm, merge_into: int | None
) -> list[Decision]:
    """The batch the form asks for (see the module docstring)."""
    data = form.cleaned_data
    action = data["action"]
    reason = (data.get("reason") or "").strip()
    if action != "adopt":
        return [
            Decision(
                concern_id=concern_id,
                version=version,
                outcome=action,
                category=(data.get("category") or "") if action == Outcome.FILE else "",
                unit_id=data.get("unit") if action == Outcome.FILE else None,
                severity=(data.get("severity") or "") if action == Outcome.FILE else "",
                problem_id=merge_into if action == Outcome.MERGE else None,
                reason=reason,
            )
            for concern_id, version in form.selected
        ]
    ids = [concern_id for concern_id, _version in form.selected]
    concerns = {
        c.pk: c
        for c in concern_list(user=user)
        .filter(pk__in=ids)
        .select_related("village")
        .prefetch_related("items__option", "items__question")
    }
    index = TownIndex(town)
    decisions = []
    for concern_id, version in form.selected:
        concern = concerns.get(concern_id)
        if concern is None:  # the service answers "not found"
            decisions.append(Decision(concern_id, version, ""))
            continue
        if concern.outcome:  # decided meanwhile: resend what it got (duplicate, or stale)
            decisions.append(Decision(concern_id, version, concern.outcome))
            continue
        items = list(concern.items.all())
        suggestion = suggest(concern, items, index)
        decisions.append(_adopted(concern_id, version, suggestion, data["severity"], reason))
    return decisions


def _adopted(
    concern_id: int, version: int, suggestion: Suggestion, severity: str, reason: str
) -> Decision:
    if suggestion.outcome == Outcome.MERGE and suggestion.candidates:
        return Decision(concern_id, version, Outcome.MERGE,
                        problem_id=suggestion.candidates[0].problem_id, reason=reason)  # fmt: skip
    if suggestion.outcome == Outcome.FILE:
        unit_id = suggestion.unit.pk if suggestion.unit is not None else None
        return Decision(
            concern_id,
            version,
            Outcome.FILE,
            category=suggestion.category,
            unit_id=unit_id,
            severity=severity if unit_id is not None else "",
            reason=reason,
        )
    return Decision(concern_id, version, suggestion.outcome, reason=reason)


@login_required
def triage(request) -> HttpResponse:
    """梳理: the queue (GET) and one action for the ticked concerns (POST)."""
    user = request.user
    town = _town(user)
    if request.method != "POST":
        done = request.GET.get("done", "")
        return _page(request, user=user, town=town, results=_results(request, done))
    form = TriageForm(request.POST, units=_units(user), categories=category_names(town=town))
    if not form.is_valid():
        return _page(request, user=user, town=town, form=_fresh(form), status=422)
    key = form.cleaned_data["key"]
    if key in request.session.get(SESSION_KEY, {}):  # sent again: the first answer
        return _after(request, user, town, key, _results(request, key))
    merge_into = form.cleaned_data.get("problem")
    code = (form.cleaned_data.get("code") or "").strip()
    if form.cleaned_data["action"] == Outcome.MERGE and code:  # a typed code wins
        merge_into = problem_list(user=user).filter(code=code).values_list("pk", flat=True).first()
        if merge_into is None:
            form.add_error(
                "code", _("找不到编号为 %(code)s 的问题，或它不在您的管辖范围内。") % {"code": code}
            )
            return _page(request, user=user, town=town, form=_fresh(form), status=422)
    results = concerns_triage(actor=user, decisions=_decisions(user, town, form, merge_into))
    return _after(request, user, town, key, _keep_results(request, key, results))


def _after(request, user, town, key, results: list[dict[str, Any]]) -> HttpResponse:
    """All done: back to the queue with the results. Some refused: the page again, with the
    refused ones still ticked and the inputs as typed (under a new submission key)."""
    refused = [r for r in results if r["status"] == "refused"]
    if not refused:
        query = QueryDict(mutable=True)
        for name in (*FILTERS, "page"):
            if request.GET.get(name):
                query[name] = request.GET[name]
        query["done"] = key
        return redirect(f"{reverse('web:triage')}?{query.urlencode()}")
    data = request.POST.copy()
    data.setlist("concern", [v for v in data.getlist("concern") if _still(v, refused)])
    form = _fresh(TriageForm(data, units=_units(user), categories=category_names(town=town)))
    accepted = len(results) - len(refused)
    status = 200 if accepted else max(r.get("http_status", 422) for r in refused)
    return _page(request, user=user, town=town, form=form, results=results, status=status)


def _still(value: str, refused: list[dict[str, Any]]) -> bool:
    try:
        concern_id = _token(value)[0]
    except ValueError:
        return False
    return any(r["concern_id"] == concern_id for r in refused)


def _fresh(form: TriageForm) -> TriageForm:
    """The same typed input under a new submission key (the next send is a new batch)."""
    data: QueryDict = form.data.copy()  # type: ignore[attr-defined]  # request.POST's copy
    data["key"] = uuid.uuid4().hex
    form.data = data
    return form
