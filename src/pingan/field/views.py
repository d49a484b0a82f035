"""The cadre's mobile pages (docs/architecture.md `field`). Thin: scoped selectors in, templates out.

The pages are the cadre's tool: any other role gets 403 (they have the back office), and a
household outside the cadre's slice (分片包干) is 404, so its existence is not revealed.
The visit form writes nothing here: its script posts the visit to `POST /api/v1/visits/sync`
with the session and the CSRF token, so the phone and the API share one exactly-once path.
反馈群众 (the resident's verdict on a handled problem) is a plain form: it needs a signal, and
`ledger.services.problem_act` records it.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from pingan.accounts.models import Role, User
from pingan.campaigns.models import Campaign
from pingan.field.selectors import (
    VISIT_STATES,
    field_campaign,
    household_list_for_field,
    household_search_q,
    household_visit_state_counts,
    household_visit_state_q,
    questionnaire_for_form,
    visit_list_for_household,
)
from pingan.ledger.lifecycle import Action, LedgerError, StaleVersion
from pingan.ledger.models import Problem
from pingan.ledger.selectors import problem_get, problem_list_to_feed_back
from pingan.ledger.services import problem_act
from pingan.visits.models import Visit
from pingan.web.forms import ProblemActionForm
from pingan.web.ledger import action_input, add_ledger_error, problem_action_form, with_version

HOUSEHOLDS_PER_PAGE = 20
FEEDBACK_PER_PAGE = 20
# The tabs, in order: key, label. "all" is the default.
TABS = (
    ("all", _("全部")),
    ("not_visited", _("未走访")),
    ("revisit", _("需再访")),
    ("reached", _("已走访")),
)
# Outcomes the form offers, in the order a cadre thinks of them; the first two carry the
# questionnaire (as `visits.services.WITH_QUESTIONNAIRE`).
FORM_OUTCOMES = (
    Visit.Outcome.COMPLETED,
    Visit.Outcome.PHONE,
    Visit.Outcome.REFUSED,
    Visit.Outcome.NOT_HOME,
    Visit.Outcome.VACANT,
)
WITH_QUESTIONNAIRE = (Visit.Outcome.COMPLETED, Visit.Outcome.PHONE)


class CadreRequest(HttpRequest):
    user: User


def cadre_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and a cadre: the field pages are the visiting cadre's tool (403 otherwise)."""

    @login_required
    @wraps(view)
    def wrapper(request: CadreRequest, *args, **kwargs) -> HttpResponse:
        if request.user.role != Role.CADRE:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _campaign_or_404(user: User) -> Campaign:
    campaign = field_campaign(user=user)
    if campaign is None:
        raise Http404
    return campaign


@cadre_required
@ensure_csrf_cookie
def households(request: CadreRequest) -> HttpResponse:
    """我的住户: tabs 全部/未走访/需再访/已走访 with their counts, search by address."""
    user = request.user
    campaign = field_campaign(user=user)
    tab = request.GET.get("tab", "all")
    if tab not in VISIT_STATES:
        tab = "all"
    query = request.GET.get("q", "").strip()[:50]
    context: dict = {"campaign": campaign, "tab": tab, "query": query, "tabs": []}
    if campaign is not None:
        listed = household_list_for_field(user=user, campaign=campaign)
        if query:
            listed = listed.filter(household_search_q(query))
        counts = household_visit_state_counts(households=listed)
        if tab != "all":
            listed = listed.filter(household_visit_state_q(tab))
        page = Paginator(listed, HOUSEHOLDS_PER_PAGE).get_page(request.GET.get("page"))
        context.update(
            page=page,
            tabs=[(key, label, counts[key]) for key, label in TABS],
        )
    # 反馈群众: handled problems whose result the cadre must take back to the resident.
    context["feedback_count"] = problem_list_to_feed_back(user=user).count()
    return render(request, "field/households.html", context)


@cadre_required
@ensure_csrf_cookie
def visit_form(request: CadreRequest, pk: int) -> HttpResponse:
    """The visit form. Its script keeps the draft and the outbox on the phone and posts the
    visit to the sync API; nothing is pre-selected."""
    user = request.user
    campaign = _campaign_or_404(user)
    household = get_object_or_404(household_list_for_field(user=user, campaign=campaign), pk=pk)
    questionnaire = questionnaire_for_form(campaign=campaign)
    outcomes = [(outcome.value, outcome.label) for outcome in FORM_OUTCOMES]
    return render(
        request,
        "field/visit_form.html",
        {
            "campaign": campaign,
            "household": household,
            "questionnaire": questionnaire,
            "outcomes": outcomes,
            "config": {
                "household_id": household.pk,
                "questionnaire_id": questionnaire["id"] if questionnaire else None,
                "with_questionnaire": [o.value for o in WITH_QUESTIONNAIRE],
            },
        },
    )


@cadre_required
def household_history(request: CadreRequest, pk: int) -> HttpResponse:
    """走访记录: every visit of the household in the campaign, newest first."""
    user = request.user
    campaign = _campaign_or_404(user)
    household = get_object_or_404(household_list_for_field(user=user, campaign=campaign), pk=pk)
    visits = visit_list_for_household(user=user, campaign=campaign, household_id=household.pk)
    return render(
        request,
        "field/household_history.html",
        {"campaign": campaign, "household": household, "visits": visits},
    )


# --- 反馈群众: the handling result back to the resident, and their verdict -------------------


def _feedback_form(problem: Problem, *, user: User, data=None) -> ProblemActionForm:
    return problem_action_form(
        Action.FEEDBACK, user=user, problem=problem, data=data, auto_id=f"p{problem.pk}-%s"
    )


def _feedback_page(
    request: CadreRequest,
    *,
    bound: ProblemActionForm | None = None,
    bound_pk: int | None = None,
    alert: str = "",
    status: int = 200,
) -> HttpResponse:
    """The list with one verdict form per problem; `bound` is the form the cadre sent,
    shown again with what they chose and typed."""
    user = request.user
    page = Paginator(problem_list_to_feed_back(user=user), FEEDBACK_PER_PAGE).get_page(
        request.GET.get("page")
    )
    items = [
        (p, bound if bound is not None and p.pk == bound_pk else _feedback_form(p, user=user))
        for p in page.object_list
    ]
    # The problem left the list meanwhile: what the cadre typed is shown apart, not lost.
    unsent = bound if bound is not None and all(form is not bound for _p, form in items) else None
    context = {"page": page, "items": items, "unsent": unsent, "alert": alert}
    return render(request, "field/feedback.html", context, status=status)


@cadre_required
def feedback(request: CadreRequest) -> HttpResponse:
    """反馈群众: each handled problem with its result, and the resident's verdict to record."""
    return _feedback_page(request)


@cadre_required
@require_POST
def feedback_record(request: CadreRequest, pk: int) -> HttpResponse:
    """Record the resident's verdict: 满意 closes the problem (销号), 不满意 (with the reason)
    sends it back to the unit (重办)."""
    user = request.user
    current = problem_get(user=user, problem_id=pk)  # 404 outside the cadre's problems
    form = _feedback_form(current, user=user, data=request.POST)
    if not form.is_valid():
        return _feedback_page(request, bound=form, bound_pk=pk, status=422)
    try:
        done = problem_act(
            actor=user,
            problem_id=pk,
            action=Action.FEEDBACK,
            version=form.cleaned_data["version"],
            data=action_input(form),
        )
    except StaleVersion:
        alert = gettext(
            "问题 %(code)s 已被他人修改，请刷新后重试。现在的状态是「%(status)s」，"
            "您填写的内容仍在。"
        ) % {"code": current.code, "status": gettext(current.get_status_display())}
        return _feedback_page(
            request, bound=with_version(form, current.version), bound_pk=pk, alert=alert,
            status=409,
        )  # fmt: skip
    except LedgerError as exc:
        add_ledger_error(form, exc)
        return _feedback_page(request, bound=form, bound_pk=pk, status=exc.status)
    if done.status == Problem.Status.CLOSED:
        text = gettext("%(code)s：群众满意，问题已销号。")
    else:
        text = gettext("%(code)s：群众不满意，已退回责任单位重新办理。")
    messages.success(request, text % {"code": done.code})
    return redirect("field:feedback")
