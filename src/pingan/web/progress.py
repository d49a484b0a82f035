"""走访进度 on the town and village pages, and the confirmation of vacant households.

The town and village views (`views.py`) fetch their villages through
`visits.selectors.village_list_with_visit_progress` (the selector `GET /api/v1/villages` uses,
so the pages and the API show the same figures) and add what this module builds: the town's
totals, the rates (一感两度两率, from `visits.rates.rate_figures`), the per-cadre table,
the households to revisit and the vacant visits awaiting confirmation.
"""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.models import Person, User
from pingan.campaigns.models import Campaign
from pingan.regions.models import Household, Region
from pingan.visits.selectors import (
    Progress,
    area_rates,
    cadre_progress_annotate,
    household_list_to_revisit,
    rate_definitions,
    user_can_confirm_vacancy,
    user_may_confirm_vacancies,
    village_progress_totals,
    village_rates,
    visit_list,
    visit_list_vacancy_to_confirm,
)
from pingan.visits.services import VacancyConfirmDenied, visit_vacancy_confirm

REVISIT_PER_PAGE = 20
# Vacant visits wait for the village admin a day or two; a long list means nobody looks.
VACANCIES_SHOWN = 50


class AuthenticatedRequest(HttpRequest):
    user: User


def town_progress_context(
    *, villages: QuerySet[Region], campaign: Campaign | None, today: dt.date
) -> dict[str, Any]:
    """The town page's progress: totals over `villages` (annotated by
    `village_list_with_visit_progress`), rates per village and for the town. One query for
    the totals; three more for the rates once a questionnaire has been taken."""
    progress = village_progress_totals(villages=villages)
    # No questionnaire taken yet: no rate to compute (and no query to make).
    definitions = rate_definitions(campaign=campaign) if progress.questionnaire_count else []
    rates = area_rates(campaign=campaign, villages=villages, definitions=definitions)
    return {
        "today": today,
        "progress": progress,
        "village_rates": village_rates(
            campaign=campaign, villages=villages, definitions=definitions
        ),
        "rates": rates,
        "rate_by_key": {definition["key"]: figure for definition, figure in rates},
    }


def village_progress_context(
    request: HttpRequest,
    *,
    user: User,
    village: Any,
    cadres: QuerySet[Person],
    campaign: Campaign | None,
    today: dt.date,
) -> dict[str, Any]:
    """The village page's progress. `village` is annotated by
    `village_list_with_visit_progress`; `cadres` by `cadre_list_with_coverage`. The village's
    own counts tell which lists can only be empty, so those cost no query (the user's scope
    only narrows them): at most five queries, for the rates, revisits and vacancies."""
    progress = Progress.of(village)
    definitions = rate_definitions(campaign=campaign) if progress.questionnaire_count else []
    one_village = Region.objects.filter(pk=village.pk)
    revisit = Paginator(
        household_list_to_revisit(user=user, village=village, campaign=campaign)
        if progress.to_revisit
        else Household.objects.none(),
        REVISIT_PER_PAGE,
    )
    vacancies = (
        list(
            visit_list_vacancy_to_confirm(user=user, village=village, campaign=campaign)[
                : VACANCIES_SHOWN + 1
            ]
        )
        if progress.vacant_pending
        else []
    )
    return {
        "today": today,
        "progress": progress,
        "rates": area_rates(campaign=campaign, villages=one_village, definitions=definitions),
        "cadres": cadre_progress_annotate(cadres, campaign=campaign),
        "revisit_page": revisit.get_page(request.GET.get("revisit_page")),
        "vacancies": vacancies[:VACANCIES_SHOWN],
        "vacancies_more": len(vacancies) > VACANCIES_SHOWN,
        "can_confirm_vacancy": user_can_confirm_vacancy(user=user, village=village),
    }


@login_required
@require_POST
def vacancy_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The village admin (or the town center) confirms that a vacant visit found an empty
    household; the household leaves the roster denominator. A role that never confirms gets
    403 for any visit, checked first so nothing is disclosed; a visit outside the user's
    scope is 404."""
    user = request.user
    if not user_may_confirm_vacancies(user):
        raise PermissionDenied
    visit = get_object_or_404(visit_list(user=user).select_related("household"), pk=pk)
    try:
        visit_vacancy_confirm(visit=visit, actor=user)
    except VacancyConfirmDenied as exc:
        raise PermissionDenied from exc
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已确认“%(address)s”为空挂户，该户不再计入应走访的在住户数。")
            % {"address": visit.household.address},
        )
    return redirect(reverse("web:village", args=[visit.household.village_id]) + "#vacancies")
