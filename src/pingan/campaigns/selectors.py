"""Reads of campaigns, phases and quotas, and of who visits which household (coverage).

Every read that needs a campaign lives here: the town and village lists with their current
campaign's quota, and the households a user may see (a cadre's are the ones assigned to them).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Length

from pingan.accounts.models import Person, Role, User
from pingan.accounts.selectors import user_can_see_households, user_scope_path
from pingan.campaigns.models import (
    Assignment,
    Campaign,
    LeafletIssue,
    Phase,
    ProblemCategory,
    RoutingRule,
    VillageQuota,
)
from pingan.core import clock
from pingan.regions.models import Household, Region
from pingan.regions.selectors import count_subquery, roster_counts, town_list, village_list


def campaign_current(*, town: Region) -> Campaign | None:
    """The town's campaign that started last (the one the pages and figures are about)."""
    return Campaign.objects.filter(town=town).order_by("-start_date", "-id").first()


def phase_list(*, campaign: Campaign) -> QuerySet[Phase]:
    return campaign.phases.order_by("start_date")


def quota_total(*, campaign: Campaign) -> int:
    return int(VillageQuota.objects.filter(campaign=campaign).aggregate(t=Sum("quota"))["t"] or 0)


# ---------------------------------------------------------------------------------------------
# Towns and villages with the quota of their current campaign and their roster counts


def current_campaign_subquery(town_ref: "str | OuterRef") -> Subquery:
    """The pk of the campaign of the town `town_ref` points at that started last, as
    `campaign_current` chooses it, for use inside another query."""
    return Subquery(
        Campaign.objects.filter(town=OuterRef(town_ref))
        .order_by("-start_date", "-id")
        .values("pk")[:1]
    )


def village_totals(*, villages: QuerySet[Region], campaign: Campaign | None) -> dict[str, int]:
    """Totals over `villages` (a scoped village queryset), in three aggregate queries."""
    ids = villages.order_by().values("pk")
    quota = VillageQuota.objects.filter(campaign=campaign, village__in=ids).aggregate(
        quota=Coalesce(Sum("quota"), 0)
    )
    households = Household.objects.filter(village__in=ids).aggregate(
        roster_households=Count("pk", filter=~Q(status=Household.Status.MERGED)),
        active_households=Count("pk", filter=Q(status=Household.Status.ACTIVE)),
    )
    return {
        "villages": villages.count(),
        "quota": int(quota["quota"]) if campaign is not None else 0,
        "roster_households": households["roster_households"],
        "active_households": households["active_households"],
        "cadre_count": Person.objects.filter(visit_village__in=ids, active=True).count(),
    }


def town_list_with_progress(*, user: User, county: Region | None = None) -> QuerySet[Region]:
    """Towns the user may see, each with its village count, the quota of its current campaign,
    roster households and cadres; one query.
    """
    quota = (
        VillageQuota.objects.filter(campaign=current_campaign_subquery(OuterRef("pk")))
        .order_by()
        .values("campaign")
        .annotate(total=Sum("quota"))
        .values("total")
    )
    towns = town_list(user=user)
    if county is not None:
        towns = towns.filter(parent=county)
    return towns.annotate(
        village_count=count_subquery(Region.objects.filter(kind=Region.Kind.VILLAGE), "parent"),
        quota=Coalesce(Subquery(quota, output_field=IntegerField()), Value(0)),
        **roster_counts("village__parent"),
    ).order_by("sort_order", "path")


def village_list_with_progress(*, user: User, town: Region | None = None) -> QuerySet[Region]:
    """Villages the user may see with quota, roster households, active households and cadres,
    in one SQL query. Each quota comes from the current campaign of the village's own town, so
    a county-wide list needs no campaign per town. `current_campaign_id` is None without one.
    """
    quota = (
        VillageQuota.objects.filter(
            village=OuterRef("pk"), campaign=OuterRef("current_campaign_id")
        )
        .order_by()
        .values("quota")
    )
    return (
        village_list(user=user, town=town)
        .annotate(current_campaign_id=current_campaign_subquery("parent"))
        .annotate(
            quota=Coalesce(Subquery(quota[:1], output_field=IntegerField()), Value(0)),
            **roster_counts("village"),
        )
    )


# ---------------------------------------------------------------------------------------------
# Households a user may see. A cadre's are the ones assigned to them now (分片包干), so the
# household scope needs the campaign and lives here rather than in accounts or regions.


def household_scope_q(user: User) -> Q | None:
    """The filter on Household for this user, or None when they may see no household."""
    path = user_scope_path(user)
    if path is None:
        return None
    if user_can_see_households(user):
        return Q(village__path__startswith=path)
    if user.role == Role.CADRE:
        return Q(village__path__startswith=path, pk__in=_assigned_to(user))
    return None


def _assigned_to(user: User) -> QuerySet:
    """Ids of the households assigned now (分片包干) to the user's cadre profile, in the
    current campaign of each household's town (the one that started last)."""
    return Assignment.objects.filter(
        cadre__user=user,
        ended_at__isnull=True,
        campaign=current_campaign_subquery("household__village__parent"),
    ).values("household_id")


def household_list(*, user: User, village: Region | None = None) -> QuerySet[Household]:
    """Households the user may see; a cadre sees only their assigned households."""
    scope = household_scope_q(user)
    if scope is None:
        return Household.objects.none()
    households = Household.objects.filter(scope)
    if village is not None:
        households = households.filter(village=village)
    return households.select_related("village").order_by("group_no", "address", "id")


def household_group_counts(*, user: User, village: Region) -> QuerySet:
    """Households per 村民小组 in one village: [{'group_no', 'households', 'active'}]."""
    return (
        household_list(user=user, village=village)
        .exclude(status=Household.Status.MERGED)
        .order_by()
        .values("group_no")
        .annotate(
            households=Count("pk"),
            active=Count("pk", filter=Q(status=Household.Status.ACTIVE)),
        )
        .order_by("group_no")
    )


# ---------------------------------------------------------------------------------------------
# 分片包干: who may allocate, and coverage (households assigned / unassigned), all in SQL


def user_can_allocate(*, user: User, village: Region) -> bool:
    """The town center of the village's town, or the village's own admin, may split its
    households among its cadres; nobody else (leaders and the county only read)."""
    if not user.is_authenticated or not user.is_active or user.region_id is None:
        return False
    if user.role == Role.TOWN_ADMIN:
        return village.parent_id == user.region_id
    if user.role == Role.VILLAGE_ADMIN:
        return village.pk == user.region_id
    return False


def assignment_current_list(*, campaign: Campaign | Any) -> QuerySet[Assignment]:
    """Current assignments (not ended) of `campaign` (a Campaign, pk or outer reference)."""
    return Assignment.objects.filter(campaign=campaign, ended_at__isnull=True)


def _covering(campaign: Campaign | Any) -> QuerySet[Assignment]:
    """Current assignments that cover their household: an active household, held by an
    active cadre who visits the household's village. Anything else leaves it uncovered."""
    return assignment_current_list(campaign=campaign).filter(
        household__status=Household.Status.ACTIVE,
        cadre__active=True,
        cadre__visit_village=F("household__village"),
    )


def village_coverage_annotate(
    villages: QuerySet[Region], *, campaign: Campaign | None = None
) -> QuerySet[Region]:
    """`villages` with `assigned_households` and `unassigned_households` (active households
    without a covering assignment). The campaign is `campaign`, else each village's
    `current_campaign_id` annotation (as `village_list_with_progress` gives it); the
    `active_households` annotation must be there too. No extra query.
    """
    campaign_ref = campaign if campaign is not None else OuterRef("current_campaign_id")
    assigned = count_subquery(_covering(campaign_ref), "household__village")
    return villages.annotate(assigned_households=assigned).annotate(
        unassigned_households=F("active_households") - F("assigned_households")
    )


def village_coverage(*, village: Region, campaign: Campaign | None) -> dict[str, int]:
    """Active households, assigned and unassigned in one village, in one query."""
    return coverage_totals(villages=Region.objects.filter(pk=village.pk), campaign=campaign)


def coverage_totals(*, villages: QuerySet[Region], campaign: Campaign | None) -> dict[str, int]:
    """Active, assigned and unassigned households over `villages`, in one aggregate query."""
    covered = Exists(
        _covering(campaign).filter(household=OuterRef("pk"))
        if campaign is not None
        else Assignment.objects.none()
    )
    figures = Household.objects.filter(
        village__in=villages.order_by().values("pk"), status=Household.Status.ACTIVE
    ).aggregate(active=Count("pk"), assigned=Count("pk", filter=Q(covered)))
    return {
        "active_households": figures["active"],
        "assigned_households": figures["assigned"],
        "unassigned_households": figures["active"] - figures["assigned"],
    }


def cadre_list_with_coverage(
    *, cadres: QuerySet[Person], campaign: Campaign | None
) -> QuerySet[Person]:
    """`cadres` with `assigned_households` and `locked_households`: the active households of
    their visiting village they hold now. One query, whatever the number of cadres."""
    held = assignment_current_list(campaign=campaign).filter(
        household__status=Household.Status.ACTIVE, household__village=OuterRef("visit_village")
    )
    if campaign is None:
        held = held.none()
    return cadres.annotate(
        assigned_households=count_subquery(held, "cadre"),
        locked_households=count_subquery(held.filter(locked=True), "cadre"),
    )


def cadre_list_active(*, village: Region) -> QuerySet[Person]:
    """The cadres households of `village` can be assigned to: active, visiting it."""
    return Person.objects.filter(visit_village=village, active=True).order_by("name", "id")


def cadre_coverage_counts(*, village: Region, campaign: Campaign) -> dict[int, tuple[int, int]]:
    """cadre id -> (households held, of which locked): the village's active households by the
    cadre holding them now, in one GROUP BY query."""
    rows = (
        assignment_current_list(campaign=campaign)
        .filter(household__village=village, household__status=Household.Status.ACTIVE)
        .order_by()
        .values("cadre")
        .annotate(held=Count("pk"), locked=Count("pk", filter=Q(locked=True)))
    )
    return {row["cadre"]: (row["held"], row["locked"]) for row in rows}


def allocation_cadre_list(*, village: Region, campaign: Campaign | None) -> QuerySet[Person]:
    """The cadres an allocation page shows: the village's active cadres, and anyone who has
    left or moved but still holds households here (those show as 0 covered), with counts."""
    holders = (
        assignment_current_list(campaign=campaign)
        .filter(household__village=village)
        .values("cadre")
        if campaign is not None
        else Assignment.objects.none().values("cadre")
    )
    cadres = Person.objects.filter(
        Q(visit_village=village, active=True) | Q(pk__in=holders)
    ).select_related("home_unit", "home_village", "visit_village")
    held = assignment_current_list(campaign=campaign).filter(
        household__village=village, household__status=Household.Status.ACTIVE
    )
    if campaign is None:
        held = held.none()
    return cadres.annotate(
        assigned_households=count_subquery(held, "cadre"),
        locked_households=count_subquery(held.filter(locked=True), "cadre"),
    ).order_by("-active", "name", "id")


def household_list_with_assignment(
    *, households: QuerySet[Household], campaign: Campaign | None
) -> QuerySet[Household]:
    """`households` with their current assignment: `cadre_id_now`, `cadre_name_now`,
    `cadre_active_now` and `locked_now` (None when unassigned), as correlated subqueries.

    Ordered close to the allocation order, so a cadre's 片 reads as one run: by group, then
    shorter addresses first (within one address style that puts 2号 before 10号; the exact
    natural order is `allocation.household_order`, which SQL cannot page through).
    """
    households = households.order_by(
        F("group_no").asc(nulls_last=True), Length("address"), "address", "id"
    )
    if campaign is None:
        return households.annotate(
            cadre_id_now=Value(None, output_field=IntegerField()),
            cadre_name_now=Value(None, output_field=CharField()),
            cadre_active_now=Value(None, output_field=BooleanField()),
            locked_now=Value(None, output_field=BooleanField()),
        )
    current = assignment_current_list(campaign=campaign).filter(household=OuterRef("pk"))
    return households.annotate(
        cadre_id_now=Subquery(current.values("cadre_id")[:1]),
        cadre_name_now=Subquery(current.values("cadre__name")[:1]),
        cadre_active_now=Subquery(current.values("cadre__active")[:1]),
        locked_now=Subquery(current.values("locked")[:1]),
    )


def household_filter_coverage(
    households: QuerySet[Household],
    *,
    campaign: Campaign | None,
    cadre: Person | None = None,
    unassigned: bool = False,
) -> QuerySet[Household]:
    """Narrow `households` to those one cadre holds now, or to the active ones not covered."""
    if cadre is not None:
        if campaign is None:
            return households.none()
        households = households.filter(
            Exists(
                assignment_current_list(campaign=campaign).filter(
                    household=OuterRef("pk"), cadre=cadre
                )
            )
        )
    if unassigned:
        households = households.filter(status=Household.Status.ACTIVE)
        if campaign is not None:
            households = households.exclude(
                Exists(_covering(campaign).filter(household=OuterRef("pk")))
            )
    return households


def assignment_history(*, household: Household, campaign: Campaign) -> QuerySet[Assignment]:
    """Every assignment of one household in one campaign, newest first."""
    return (
        Assignment.objects.filter(campaign=campaign, household=household)
        .select_related("cadre", "assigned_by")
        .order_by("-started_at", "-id")
    )


def phase_get(*, campaign: Campaign, kind: str) -> Phase | None:
    return campaign.phases.filter(kind=kind).first()


@dataclass(frozen=True)
class CoverageWarning:
    """ "尚有 N 户未分配到走访干部": shown until every active household is covered."""

    unassigned: int
    visiting_starts: dt.date | None  # the first day of 走访整改阶段, if the campaign has one
    visiting_started: bool


def coverage_warning(
    *, campaign: Campaign | None, unassigned: int, today: dt.date | None = None
) -> CoverageWarning | None:
    """The warning for a village (or town) with `unassigned` uncovered households, or None.
    Reads the visiting phase (one query) only when there is something to warn about."""
    if campaign is None or unassigned <= 0:
        return None
    today = today or clock.today()
    visiting = phase_get(campaign=campaign, kind=Phase.Kind.VISITING)
    starts = visiting.start_date if visiting is not None else None
    return CoverageWarning(
        unassigned=unassigned,
        visiting_starts=starts,
        visiting_started=starts is not None and today >= starts,
    )


def leaflet_issue_list(
    *, campaign_id: int, villages: Iterable[Region], until: dt.datetime | None = None
) -> QuerySet[LeafletIssue]:
    """Leaflet issues (宣传资料) of the campaign to `villages` (issued before `until`, when
    given), newest first, with the village and who recorded it joined."""
    issues = LeafletIssue.objects.filter(campaign_id=campaign_id, village__in=list(villages))
    if until is not None:
        issues = issues.filter(issued_at__lt=until)
    return issues.select_related("village", "issued_by").order_by("-issued_at", "-id")


def leaflet_totals(*, campaign_id: int, villages: Iterable[Region]) -> dict[int, dict[str, Any]]:
    """{village id: {"quantity", "issues", "last"}}: one GROUP BY over the campaign's issues."""
    rows = (
        LeafletIssue.objects.filter(campaign_id=campaign_id, village__in=list(villages))
        .order_by()
        .values("village")
        .annotate(quantity=Sum("quantity"), issues=Count("id"), last=Max("issued_at"))
    )
    return {row["village"]: row for row in rows}


# ---------------------------------------------------------------------------------------------
# 登记 (来电来访): finding the household a caller speaks of

HOUSEHOLD_SEARCH_LIMIT = 20
PHONE_TAIL_DIGITS = 4


def household_search(
    *, user: User, text: str, limit: int = HOUSEHOLD_SEARCH_LIMIT
) -> list[Household]:
    """Households the user may see (a cadre: their own) whose head's name or address contains
    `text`, or, when `text` is 4 digits, whose phone ends with them (the masked phone keeps
    the last four). Merged households are left out. At most `limit` + 1 rows, so the caller
    can tell that there were more; in the village's order, with the village joined."""
    text = text.strip()[:50]
    if not text:
        return []
    match = Q(head_name__contains=text) | Q(address__contains=text)
    if text.isdigit() and len(text) == PHONE_TAIL_DIGITS:
        match |= Q(phone_masked__endswith=text)
    households = (
        household_list(user=user)
        .exclude(status=Household.Status.MERGED)
        .filter(match)
        .order_by("village__sort_order", "village__code", "group_no", "address", "id")
    )
    return list(households[: limit + 1])


# ---------------------------------------------------------------------------------------------
# The town's categories (问题类别) and routing rules (派单规则)


def category_list(*, town: Region) -> QuerySet[ProblemCategory]:
    """Every category of the town, active or not, in its order, each with `rule_count`: how
    many of the town's routing rules name it."""
    rules = (
        RoutingRule.objects.filter(town=town, category=OuterRef("name"))
        .order_by()
        .values("town")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        ProblemCategory.objects.filter(town=town)
        .annotate(rule_count=Coalesce(Subquery(rules, output_field=IntegerField()), Value(0)))
        .order_by("sort_order", "name", "id")
    )


def routing_rule_list(*, town: Region) -> QuerySet[RoutingRule]:
    """The town's routing rules, active or not, in the order they are tried (priority, then
    the older first), with the unit joined."""
    return RoutingRule.objects.filter(town=town).select_related("unit").order_by("priority", "id")
