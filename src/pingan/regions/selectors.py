"""Reads of the region tree and households, scoped by `pingan.accounts.selectors`."""

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from pingan.accounts.models import Person, User
from pingan.accounts.selectors import household_scope_q, region_list
from pingan.campaigns.models import Campaign, VillageQuota
from pingan.regions.models import Household, Region


def _count_subquery(queryset: QuerySet, field: str) -> Coalesce:
    """COUNT(*) of `queryset` per outer region, as a correlated subquery (no join fan-out)."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def village_list(*, user: User, town: Region | None = None) -> QuerySet[Region]:
    """Villages the user may see, optionally within one town, in the town's own order."""
    villages = region_list(user=user).filter(kind=Region.Kind.VILLAGE)
    if town is not None:
        villages = villages.filter(parent=town)
    return villages.select_related("parent").order_by("parent__path", "sort_order", "code")


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


def town_list(*, user: User) -> QuerySet[Region]:
    return region_list(user=user).filter(kind=Region.Kind.TOWN).order_by("path")


def town_for_user(*, user: User) -> Region | None:
    """The town a user works in: their own region or its ancestor town; None above town level."""
    if user.region_id is None:
        return None
    region = user.region
    while region is not None and region.kind != Region.Kind.TOWN:
        if region.kind in (Region.Kind.PROVINCE, Region.Kind.CITY, Region.Kind.COUNTY):
            return None
        region = region.parent
    return region


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


def village_has_synthetic_data(*, village_ids: QuerySet | list) -> bool:
    return (
        Household.objects.filter(village__in=village_ids, synthetic=True).exists()
        or Person.objects.filter(visit_village__in=village_ids, synthetic=True).exists()
    )


def town_list_with_progress(*, user: User, county: Region | None = None) -> QuerySet[Region]:
    """Towns the user may see, each with its village count, the quota of its current campaign,
    roster households and cadres; one query.
    """
    quota = (
        VillageQuota.objects.filter(campaign=_current_campaign(OuterRef("pk")))
        .order_by()
        .values("campaign")
        .annotate(total=Sum("quota"))
        .values("total")
    )
    towns = town_list(user=user)
    if county is not None:
        towns = towns.filter(parent=county)
    return towns.annotate(
        village_count=_count_subquery(Region.objects.filter(kind=Region.Kind.VILLAGE), "parent"),
        quota=Coalesce(Subquery(quota, output_field=IntegerField()), Value(0)),
        **_roster_counts("village__parent"),
    ).order_by("sort_order", "path")


def _current_campaign(town_ref: "str | OuterRef") -> Subquery:
    """The pk of the campaign of the town `town_ref` points at that started last, as
    `campaigns.selectors.campaign_current` chooses it."""
    return Subquery(
        Campaign.objects.filter(town=OuterRef(town_ref))
        .order_by("-start_date", "-id")
        .values("pk")[:1]
    )


def _roster_counts(village_field: str) -> dict[str, Coalesce]:
    """Roster households (all but merged), active households and active cadres per region,
    where `village_field` leads from a household/cadre to the region ("village", "village__parent").
    """
    cadre_field = village_field.replace("village", "visit_village", 1)
    return {
        "roster_households": _count_subquery(
            Household.objects.exclude(status=Household.Status.MERGED), village_field
        ),
        "active_households": _count_subquery(
            Household.objects.filter(status=Household.Status.ACTIVE), village_field
        ),
        "cadre_count": _count_subquery(Person.objects.filter(active=True), cadre_field),
    }


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
        .annotate(current_campaign_id=_current_campaign("parent"))
        .annotate(
            quota=Coalesce(Subquery(quota[:1], output_field=IntegerField()), Value(0)),
            **_roster_counts("village"),
        )
    )
