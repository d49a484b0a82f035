"""Reads about visits: the cadre's households with their visit state, reached counts."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from pingan.accounts.models import User
from pingan.campaigns.models import Assignment, Campaign
from pingan.regions.models import Household
from pingan.regions.selectors import household_list
from pingan.visits.models import Visit


def household_list_with_visit_state(
    *, user: User, campaign: Campaign, since: dt.datetime | None = None
) -> QuerySet[Household]:
    """The households the user may see (a cadre: their assigned ones), each annotated with
    `reached` (a counting visit in the campaign), `last_outcome` and `last_visit_at`.
    With `since`, only those whose household row or assignment changed since then, or that
    were visited since then (for a phone's incremental sync)."""
    visits = Visit.objects.filter(campaign=campaign, household=OuterRef("pk"))
    latest = visits.order_by("-ended_at", "-id")
    households = household_list(user=user).annotate(
        reached=Exists(visits.filter(counts=True)),
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_visit_at=Subquery(latest.values("ended_at")[:1]),
    )
    if since is not None:
        changed = Q(updated_at__gte=since) | Q(
            pk__in=Assignment.objects.filter(campaign=campaign, started_at__gte=since).values(
                "household_id"
            )
        )
        changed |= Q(pk__in=Visit.objects.filter(campaign=campaign, received_at__gte=since)
                     .values("household_id"))  # fmt: skip
        households = households.filter(changed)
    return households.select_related("village").order_by("village__code", "group_no", "address")


def household_ids_unassigned_since(
    *, user: User, campaign: Campaign, since: dt.datetime
) -> list[int]:
    """Households taken away from the user's cadre profile since `since` (the phone drops
    them); those given back since are not listed."""
    current = Assignment.objects.filter(
        campaign=campaign, cadre__user=user, ended_at__isnull=True
    ).values("household_id")
    return list(
        Assignment.objects.filter(campaign=campaign, cadre__user=user, ended_at__gte=since)
        .exclude(household_id__in=current)
        .values_list("household_id", flat=True)
        .distinct()
        .order_by("household_id")
    )
