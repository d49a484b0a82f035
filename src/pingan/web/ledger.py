"""The ledger pages (不满意问题台账, docs/ledger.md): the list with its filters and colours, one
problem with its reporting households, the concerns it came from, its history and the actions
the user may take, the unit's and the leader's to-do lists, and the in-app inbox (站内消息).
登记 (来电来访) records a concern (`web.intake`); its page keeps the ledger's address.

Thin views: the scoped selectors of `ledger.selectors` read, `ledger.services` writes, and
the lifecycle table (`ledger.lifecycle`) says which actions a user has and what each needs.
A refused action re-renders the page with the service's Chinese message and everything the
user typed; a stale version (someone acted first) shows the current state and keeps the text.
Photos or files sent with 办结 are attached to its event in the same transaction: a refused
file means the problem is not handled either.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from pingan.accounts.models import Role, User
from pingan.accounts.notifications import notification_list, notification_mark_read
from pingan.accounts.selectors import unit_list
from pingan.ledger.attachments import (
    attachment_list_for_problem,
    attachments_add,
    problem_event_latest,
)
from pingan.ledger.deadlines import Colour
from pingan.ledger.lifecycle import (
    ACTION_LABELS,
    Action,
    LedgerError,
    StaleVersion,
    actions_available,
    related,
    transitions_for,
)
from pingan.ledger.models import Problem, ProblemConcern, ProblemReporter
from pingan.ledger.selectors import (
    ProblemFilters,
    problem_categories,
    problem_colour_counts,
    problem_events,
    problem_get,
    problem_list,
    problem_list_filtered,
)
from pingan.ledger.services import HOUSEHOLD_ACTIONS, ActionInput, problem_act
from pingan.regions.selectors import village_list
from pingan.web import intake
from pingan.web.forms import LedgerFilterForm, ProblemActionForm
from pingan.web.views import AuthenticatedRequest

PROBLEMS_PER_PAGE = 50
NOTICES_PER_PAGE = 50

# Labels the ledger pages show, kept in Chinese by the core (`ledger.lifecycle`,
# `ledger.deadlines`, `ledger.models`) and translated at render time: marked here for the
# English catalogue.
LABELS = (
    # lifecycle.ACTION_LABELS and EVENT_LABELS
    gettext_noop("受理"),
    gettext_noop("交办"),
    gettext_noop("退回"),
    gettext_noop("申请延期"),
    gettext_noop("批准延期"),
    gettext_noop("驳回延期"),
    gettext_noop("催办"),
    gettext_noop("办结"),
    gettext_noop("反馈群众评价"),
    gettext_noop("登记"),
    gettext_noop("重新交办"),
    gettext_noop("销号"),
    gettext_noop("到期提醒"),
    gettext_noop("督办"),
    gettext_noop("列入通报批评"),
    # deadlines.Colour.LABELS ("已销号", "不予受理" are Problem.Status labels too)
    gettext_noop("临期"),
    gettext_noop("超期"),
    gettext_noop("办理中"),
    # Problem.Source, Problem.Severity, Problem.Verdict
    gettext_noop("走访反映"),
    gettext_noop("问卷不满意"),
    gettext_noop("来电来访"),
    gettext_noop("一般问题"),
    gettext_noop("复杂问题"),
    gettext_noop("满意"),
    gettext_noop("不满意"),
)

# What the reason and days inputs mean for each action.
REASON_LABELS: dict[str, str] = {
    Action.REJECT: gettext_noop("不予受理的理由"),
    Action.RETURN: gettext_noop("退回理由（交办有误的说明）"),
    Action.EXTEND_REQUEST: gettext_noop("申请延期的理由"),
    Action.EXTEND_DENY: gettext_noop("驳回理由"),
    Action.REMIND: gettext_noop("催办说明（可选）"),
    Action.FEEDBACK: gettext_noop("不满意的原因（选“不满意”时必填）"),
}
DAYS_LABELS: dict[str, str] = {
    Action.EXTEND_REQUEST: gettext_noop("延期天数（工作日）"),
    Action.EXTEND_APPROVE: gettext_noop("批准延期天数（工作日，不填则按申请）"),
}
# Inputs an action may carry beyond what `Transition.needs` requires.
OPTIONAL_INPUTS: dict[str, tuple[str, ...]] = {
    Action.EXTEND_APPROVE: ("days",),
    Action.REMIND: ("reason",),
}
SUBMIT_LABELS: dict[str, str] = {Action.FEEDBACK: gettext_noop("提交群众评价")}
# Actions whose form takes photos or files (办结: proof of handling).
FILE_ACTIONS = frozenset({Action.HANDLE})
# The page's input for an input `Transition.needs` names, and for the field a service error
# names (`LedgerError.field`).
NEED_INPUTS = {"unit_id": "unit"}
ERROR_FIELDS = {**NEED_INPUTS, "village_id": "village", "household_id": "household"}


def _translated(choices) -> list[tuple[str, str]]:
    return [(value, _(label)) for value, label in choices]


def action_inputs(action: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the inputs the action's form shows, those every way of taking it requires), from the
    lifecycle table: feedback needs a reason only when the resident is dissatisfied."""
    rows = transitions_for(action)
    needed = [{NEED_INPUTS.get(need, need) for need in row.needs} for row in rows]
    shown = set().union(*needed, OPTIONAL_INPUTS.get(action, ()))
    required = set.intersection(*needed) if needed else set()
    order = ("unit", "severity", "verdict", "days", "result", "reason")
    return (
        tuple(name for name in order if name in shown),
        tuple(name for name in order if name in required),
    )


def problem_action_form(
    action: str,
    *,
    user: User,
    problem: Problem,
    data: Any = None,
    auto_id: str | None = None,
    reporter: ProblemReporter | None = None,
) -> ProblemActionForm:
    """The form of one action on `problem`, unbound (with the current version) or bound.
    A household's action (feedback, contact_failed, confirm_unreachable) is about one
    reporting household: `reporter`, whose id the form carries."""
    inputs, required = action_inputs(action)
    if action in HOUSEHOLD_ACTIONS:
        inputs = (*inputs, "reporter_id")
        if reporter is not None and auto_id is None:
            auto_id = f"{action}-r{reporter.pk}-%s"
    severities = []
    if "severity" in inputs:  # the campaign is read only when the form needs it
        campaign = problem.campaign
        severities = [
            (Problem.Severity.GENERAL,
             _("一般问题（%(days)s 个工作日）") % {"days": campaign.general_days}),
            (Problem.Severity.COMPLEX,
             _("复杂问题（%(days)s 个工作日）") % {"days": campaign.complex_days}),
        ]  # fmt: skip
    labels = {}
    if action in REASON_LABELS:
        labels["reason"] = _(REASON_LABELS[action])
    if action in DAYS_LABELS:
        labels["days"] = _(DAYS_LABELS[action])
    units = (
        unit_list(user=user)
        .filter(active=True)
        .order_by("sort_order", "name")
        .values_list("pk", "name")
        if "unit" in inputs
        else ()
    )
    form = ProblemActionForm(
        data,
        action=action,
        inputs=inputs,
        required=required,
        labels=labels,
        units=units,
        severities=severities,
        verdicts=_translated(Problem.Verdict.choices),
        submit_label=_(SUBMIT_LABELS.get(action) or ACTION_LABELS.get(Action(action), action)),
        initial={
            "action": action,
            "version": problem.version,
            "reporter_id": reporter.pk if reporter is not None else None,
        },
        reporter=reporter,
        **({"auto_id": auto_id} if auto_id else {}),
    )
    form.takes_files = action in FILE_ACTIONS
    return form


def action_input(form: ProblemActionForm) -> ActionInput:
    data = form.cleaned_data
    return ActionInput(
        reason=data.get("reason") or "",
        unit_id=data.get("unit"),
        severity=data.get("severity") or "",
        days=data.get("days"),
        result=data.get("result") or "",
        verdict=data.get("verdict") or "",
        reporter_id=data.get("reporter_id"),
    )


def add_ledger_error(form, exc: LedgerError) -> None:
    """Put the service's message beside the input it is about (or above the form, when the
    input is not one the user sees)."""
    field = ERROR_FIELDS.get(exc.field, exc.field)
    shown = field in form.fields and not form.fields[field].widget.is_hidden
    form.add_error(field if shown else None, exc.message)


def with_version(form: ProblemActionForm, version: int) -> ProblemActionForm:
    """The same typed input, carrying the problem's current version (after a conflict the
    page shows the current state; sending again then acts on what the user now sees)."""
    data = QueryDict(mutable=True)
    data.update(form.data)
    data["version"] = str(version)
    form.data = data
    return form


# --- The list -------------------------------------------------------------------------------


def ledger_filters(request: AuthenticatedRequest) -> tuple[LedgerFilterForm, ProblemFilters]:
    """The list's GET filters as a form (choices from the user's scope) and as the selector's
    filters; a value that is not one of the choices is ignored. The export reads the same."""
    user = request.user
    form = LedgerFilterForm(
        request.GET,
        villages=village_list(user=user).values_list("pk", "name"),
        units=unit_list(user=user).order_by("sort_order", "name").values_list("pk", "name"),
        categories=problem_categories(user=user),
        statuses=_translated(Problem.Status.choices),
        colours=_translated(Colour.CHOICES),
    )
    chosen = form.chosen()
    filters = ProblemFilters(
        village_id=chosen.get("village"),
        status=chosen.get("status") or "",
        colour=chosen.get("colour") or "",
        unit_id=chosen.get("unit"),
        category=chosen.get("category") or "",
        overdue=bool(chosen.get("overdue")),
        search=(chosen.get("q") or "").strip(),
    )
    return form, filters


@login_required
def ledger(request: AuthenticatedRequest) -> HttpResponse:
    """台账: every problem the user may see, filtered, with its colour; 50 a page."""
    user = request.user
    form, filters = ledger_filters(request)
    problems = problem_list_filtered(user=user, filters=filters)
    page = Paginator(problems, PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    counts = problem_colour_counts(user=user, filters=filters)
    context = {
        "form": form,
        "page": page,
        "colours": [(colour, _(label), counts[colour]) for colour, label in Colour.CHOICES],
        "colour": filters.colour,
        "filtered": any(form.chosen().get(name) for name in form.fields),
        "can_report": user.role in intake.INTAKE_ROLES,
        "can_keep_lists": user.role == Role.TOWN_ADMIN,
    }
    return render(request, "web/ledger/list.html", context)


# --- One problem ----------------------------------------------------------------------------


def reporter_actions(
    *, user: User, problem: Problem, action: str, reporters: list[ProblemReporter]
) -> list[ProblemReporter]:
    """The reporting households `user` may take a household's `action` on, from the lifecycle
    table: those still waiting to which the user stands in the action's relation (the
    visiting cadre, or the village admin standing in); for the leader's confirmation, only
    households tried at least `UNREACHABLE_TRIES` times."""
    rows = [
        t for t in transitions_for(action) if t.source == problem.status and user.role in t.roles
    ]
    return [
        reporter
        for reporter in reporters
        if not reporter.done
        and any(related(user, problem, row.relation, reporter) for row in rows)
        and (
            action != Action.CONFIRM_UNREACHABLE
            or reporter.tries >= ProblemReporter.UNREACHABLE_TRIES
        )
    ]


def _same_form(form: ProblemActionForm, action: str, reporter: ProblemReporter | None) -> bool:
    sent = form.reporter.pk if form.reporter is not None else None
    return form.action_name == action and sent == (reporter.pk if reporter else None)


def problem_concerns(problem: Problem) -> QuerySet[ProblemConcern]:
    """The concerns the problem was filed (立案) or joined (并案) from, oldest first, with
    their village and household."""
    return problem.concern_links.select_related("concern__village", "concern__household").order_by(
        "at", "id"
    )


def _detail(
    request: AuthenticatedRequest,
    problem: Problem,
    *,
    bound: ProblemActionForm | None = None,
    alert: str = "",
    status: int = 200,
) -> HttpResponse:
    """The problem page; `bound` is the form the user sent (shown again with their input).
    A household's action has a form for each reporting household the user may take it on."""
    user = request.user
    # prefetched with their cadre, village and household (ledger.selectors.with_reporters)
    reporters = list(problem.reporters.all())
    forms = []
    for action in actions_available(user=user, problem=problem):
        targets: list[ProblemReporter | None] = [None]
        if action in HOUSEHOLD_ACTIONS:
            targets = list(
                reporter_actions(user=user, problem=problem, action=action, reporters=reporters)
            )
        for reporter in targets:
            if bound is not None and _same_form(bound, action, reporter):
                forms.append(bound)
            else:
                forms.append(
                    problem_action_form(action, user=user, problem=problem, reporter=reporter)
                )
    # The form sent is no longer offered (the problem moved on): its text is shown apart.
    unsent = bound if bound is not None and bound not in forms else None
    context = {
        "problem": problem,
        "reporters": reporters,
        "concern_links": problem_concerns(problem),
        "attachments": attachment_list_for_problem(user=user, problem_id=problem.pk),
        "events": problem_events(problem=problem),
        "forms": forms,
        "unsent": unsent,
        "alert": alert,
    }
    return render(request, "web/ledger/detail.html", context, status=status)


@login_required
def problem(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail(request, problem_get(user=request.user, problem_id=pk))


@login_required
@require_POST
def problem_action(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Take one action (`ledger.services.problem_act`), then back to the problem page."""
    user = request.user
    current = problem_get(user=user, problem_id=pk)  # 404 outside the scope
    action = request.POST.get("action", "")
    if action not in ACTION_LABELS:
        return _detail(request, current, alert=_("未知的操作，请刷新页面后重试。"), status=422)
    reporter_id = request.POST.get("reporter_id", "")
    reporter = next(
        (r for r in current.reporters.all() if str(r.pk) == reporter_id and not r.done), None
    )
    form = problem_action_form(
        action, user=user, problem=current, data=request.POST, reporter=reporter
    )
    if not form.is_valid():
        return _detail(request, current, bound=form, status=422)
    files = request.FILES.getlist("files") if action in FILE_ACTIONS else []
    try:
        with transaction.atomic():
            done = problem_act(
                actor=user,
                problem_id=current.pk,
                action=action,
                version=form.cleaned_data["version"],
                data=action_input(form),
            )
            if files:
                event = problem_event_latest(user=user, problem_id=done.pk, action=action)
                attachments_add(actor=user, files=files, event=event)
    except StaleVersion:
        alert = _(
            "问题 %(code)s 已被他人修改，请刷新后重试。下面已是最新状态「%(status)s」，"
            "您填写的内容仍在，请核对后再提交。"
        ) % {"code": current.code, "status": _(current.get_status_display())}
        return _detail(
            request, current, bound=with_version(form, current.version), alert=alert, status=409
        )
    except LedgerError as exc:
        add_ledger_error(form, exc)
        return _detail(request, current, bound=form, status=exc.status)
    messages.success(
        request,
        _("%(code)s：%(action)s，现为「%(status)s」。")
        % {
            "code": done.code,
            "action": _(ACTION_LABELS[action]),
            "status": _(done.get_status_display()),
        },
    )
    # A unit that returned a problem no longer sees it: back to its to-do list.
    if problem_list(user=user).filter(pk=done.pk).exists():
        return redirect("web:problem", done.pk)
    return redirect("web:ledger_inbox")


# --- 登记 (来电来访) ----------------------------------------------------------------------------

# The 登记 form records a concern (`web.intake.concern_new`); it keeps the ledger's address.
problem_new = intake.concern_new


# --- The in-app inbox (站内消息) ---------------------------------------------------------------


@login_required
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    """消息: the user's notices, newest first, unread ones marked."""
    page = Paginator(notification_list(user=request.user), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/inbox.html", {"page": page})


@login_required
@require_POST
def inbox_read_all(request: AuthenticatedRequest) -> HttpResponse:
    marked = notification_mark_read(user=request.user)
    messages.success(request, _("已将 %(count)s 条消息标为已读。") % {"count": marked})
    return redirect("web:inbox")


@login_required
@require_POST
def inbox_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Open one notice's link, marking it read (a form button: it works without script)."""
    user = request.user
    notice = get_object_or_404(notification_list(user=user), pk=pk)
    notification_mark_read(user=user, ids=[notice.pk])
    if user.role == Role.CADRE and notice.kind == f"problem_{Action.HANDLE}":
        return redirect("field:feedback")  # the cadre records the verdict on their phone
    if notice.link and url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None):
        return HttpResponseRedirect(notice.link)
    return redirect(reverse("web:inbox"))
