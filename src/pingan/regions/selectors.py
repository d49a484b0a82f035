"""Reads of the region tree, scoped by `pingan.accounts.selectors`.

Reads that need a campaign (quotas, a cadre's assigned households) live in
`pingan.campaigns.selectors`, above this layer."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from pingan.accounts.models import Person, User
from pingan.accounts.selectors import region_list
from pingan.regions.models import Household, Region


def count_subquery(queryset: QuerySet, field: str) -> Coalesce:
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


def site_has_synthetic_data() -> bool:
    """Whether the site holds synthetic data (households or people that `pingan demo` or
    `pingan generate_data` made), in one query that stops at the first such row. Every page
    says so (the layout's banner, through `pingan.web.synthetic`, which caches this)."""
    households = Household.objects.filter(synthetic=True).values("pk")
    people = Person.objects.filter(synthetic=True).values("pk")
    return households.union(people, all=True).exists()


def roster_counts(village_field: str) -> dict[str, Coalesce]:
    """Roster households (all but merged), active households and active cadres per region,
    where `village_field` leads from a household/cadre to the region ("village", "village__parent").
    """
    cadre_field = village_field.replace("village", "visit_village", 1)
    return {
        "roster_households": count_subquery(
            Household.objects.exclude(status=Household.Status.MERGED), village_field
        ),
        "active_households": count_subquery(
            Household.objects.filter(status=Household.Status.ACTIVE), village_field
        ),
        "cadre_count": count_subquery(Person.objects.filter(active=True), cadre_field),
    }
