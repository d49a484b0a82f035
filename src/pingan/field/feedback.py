"""反馈群众 on the phone: the handling result back to each reporting household, and its verdict.

One card per household (a merged problem, 并案, has several; each hears the result from its
own visiting cadre). Three buttons: 满意, 不满意 (with the reason; sends the problem back,
重办, and every household waits again), 联系不上 (one more try recorded). A household tried
3 times stays on the list, marked as waiting for the leader's confirmation (确认无法联系,
in the back office), without the 联系不上 button: if the cadre reaches it after all, its
verdict is still recorded. The village admin uses these pages too, for the households whose
visiting cadre cannot sign in. `ledger.services.problem_act` records every answer; a stale
version shows the current state and keeps what was typed.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from pingan.accounts.models import User
from pingan.field.access import FEEDBACK_ROLES, FieldRequest, field_roles, home_url
from pingan.field.forms import HouseholdFeedbackForm
from pingan.ledger.lifecycle import Action, LedgerError, StaleVersion
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.selectors import (
    problem_get,
    problem_reporter_get,
    problem_reporter_list_to_feed_back,
)
from pingan.ledger.services import ActionInput, problem_act

FEEDBACK_PER_PAGE = 20


def _feedback_form(reporter: ProblemReporter) -> HouseholdFeedbackForm:
    return HouseholdFeedbackForm(
        initial={"version": reporter.problem.version, "reporter_id": reporter.pk},
        reporter_id=reporter.pk,
    )


def _posted_id(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _feedback_page(
    request: FieldRequest,
    *,
    bound: HouseholdFeedbackForm | None = None,
    alert: str = "",
    status: int = 200,
) -> HttpResponse:
    """The list with one card per household; `bound` is the form the cadre sent, shown again
    on its card with what they typed."""
    user = request.user
    page = Paginator(problem_reporter_list_to_feed_back(user=user), FEEDBACK_PER_PAGE).get_page(
        request.GET.get("page")
    )
    bound_id = _posted_id(bound.data.get("reporter_id")) if bound is not None else None
    items = [
        (r, bound if bound is not None and r.pk == bound_id else _feedback_form(r))
        for r in page.object_list
    ]
    # The household left the list meanwhile: what the cadre typed is shown apart, not lost.
    unsent = bound if bound is not None and all(form is not bound for _r, form in items) else None
    context = {
        "page": page,
        "items": items,
        "unsent": unsent,
        "alert": alert,
        "saved": request.GET.get("saved", "")[:40],
        "home_url": home_url(user),
        "tries_limit": ProblemReporter.UNREACHABLE_TRIES,
    }
    return render(request, "field/feedback.html", context, status=status)


@field_roles(*FEEDBACK_ROLES)
def feedback(request: FieldRequest) -> HttpResponse:
    """反馈群众: each waiting household with the problem's handling result."""
    return _feedback_page(request)


@field_roles(*FEEDBACK_ROLES)
@require_POST
def feedback_record(request: FieldRequest, pk: int) -> HttpResponse:
    """Record one household's verdict (`reporter_id`) on problem `pk`: 满意, 不满意 (with the
    reason) or 联系不上, through `ledger.services.problem_act`."""
    user = request.user
    current = problem_get(user=user, problem_id=pk)  # 404 outside the user's problems
    reporter_id = _posted_id(request.POST.get("reporter_id"))
    form = HouseholdFeedbackForm(request.POST, reporter_id=reporter_id)
    if not form.is_valid():
        return _feedback_page(request, bound=form, status=422)
    action, verdict = form.action()
    try:
        done = problem_act(
            actor=user,
            problem_id=pk,
            action=action,
            version=form.cleaned_data["version"],
            data=ActionInput(
                verdict=verdict,
                reason=form.cleaned_data["reason"],
                reporter_id=form.cleaned_data["reporter_id"],
            ),
        )
    except StaleVersion:
        alert = gettext(
            "问题 %(code)s 刚有变动（其他反映户已反馈或办理情况有变），现在的状态是「%(status)s」。"
            "请核对后重新提交，您填写的内容仍在。"
        ) % {"code": current.code, "status": gettext(current.get_status_display())}
        return _feedback_page(
            request, bound=_with_version(form, current.version), alert=alert, status=409
        )
    except LedgerError as exc:
        form.add_error("reason" if exc.field == "reason" else None, exc.message)
        return _feedback_page(request, bound=form, status=exc.status)
    reporter_id = form.cleaned_data["reporter_id"]
    messages.success(request, _feedback_done(user, done, action, verdict, reporter_id))
    return redirect(f"{reverse('field:feedback')}?saved=feedback-{reporter_id}")


def _with_version(form: HouseholdFeedbackForm, version: int) -> HouseholdFeedbackForm:
    """The same typed input, carrying the problem's current version: sending again acts on
    what the cadre now sees."""
    data = QueryDict(mutable=True)
    data.update(form.data)
    data["version"] = str(version)
    form.data = data
    return form


def _feedback_done(user: User, done: Problem, action: str, verdict: str, reporter_id: int) -> str:
    """What the cadre is told after a household's answer was recorded."""
    n = done.reporters_waiting
    if action == Action.CONTACT_FAILED:
        reporter = problem_reporter_get(user=user, reporter_id=reporter_id)
        n = reporter.tries if reporter is not None else 0
        if n >= ProblemReporter.UNREACHABLE_TRIES:
            text = gettext(
                "%(code)s：已 %(n)s 次联系不上，该户现在等待领导确认无法联系；"
                "之后如联系上，仍可记录群众评价。"
            )
        else:
            text = gettext("%(code)s：已记录第 %(n)s 次联系不上。")
    elif verdict == ProblemReporter.Verdict.DISSATISFIED:
        text = gettext("%(code)s：群众不满意，已退回责任单位重新办理。")
    elif done.status == Problem.Status.CLOSED:
        text = gettext("%(code)s：群众满意，问题已销号。")
    else:
        text = gettext("%(code)s：已记录该户满意；还有 %(n)s 户待反馈，都满意后销号。")
    return text % {"code": done.code, "n": n}
