"""The cadre's mobile pages (DESIGN §6 `field`). Thin: scoped selectors in, templates out.

The pages are the cadre's tool: any other role gets 403 (they have the back office), and a
household outside the cadre's slice (分片包干) is 404, so its existence is not revealed.
The visit form writes nothing here: its script posts the visit to `POST /api/v1/visits/sync`
with the session and the CSRF token, so the phone and the API share one exactly-once path.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie

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
from pingan.visits.models import Visit

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
