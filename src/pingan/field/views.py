"""The cadre's mobile pages (docs/architecture.md `field`). Thin: scoped selectors in, templates out.

The pages are the cadre's tool: any other role gets 403 (they have the back office), and a
household outside the cadre's slice (分片包干) is 404, so its existence is not revealed.
The visit form writes nothing here: its script posts the visit to `POST /api/v1/visits/sync`
with the session and the CSRF token, so the phone and the API share one exactly-once path.

反馈群众 (`field.feedback`) and 思想工作 (`field.talks`) are open to the village admin too,
who stands in for a visiting cadre without a login (`ledger.lifecycle._visits`). They are
plain forms: they need a signal, and the small script keeps what was typed on the phone
until the server has it.
"""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie

from pingan.accounts.models import User
from pingan.campaigns.models import Campaign
from pingan.field.access import FieldRequest, cadre_required
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
from pingan.ledger.selectors import problem_reporter_feedback_counts
from pingan.visits.models import Visit
from pingan.visits.selectors import thought_work_count_to_record

HOUSEHOLDS_PER_PAGE = 20
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


def _campaign_or_404(user: User) -> Campaign:
    campaign = field_campaign(user=user)
    if campaign is None:
        raise Http404
    return campaign


@cadre_required
@ensure_csrf_cookie
def households(request: FieldRequest) -> HttpResponse:
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
    # 反馈群众: households waiting for a handled problem's result (one query); 思想工作: talks
    # to hold (one query).
    feedback = problem_reporter_feedback_counts(user=user)
    context["feedback_count"] = feedback["todo"]
    context["feedback_awaiting_leader"] = feedback["awaiting_leader"]
    context["talk_count"] = thought_work_count_to_record(user=user)
    return render(request, "field/households.html", context)


@cadre_required
@ensure_csrf_cookie
def visit_form(request: FieldRequest, pk: int) -> HttpResponse:
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
def household_history(request: FieldRequest, pk: int) -> HttpResponse:
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
