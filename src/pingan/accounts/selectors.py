"""Who may see what: the one place where a user's role and region become a scope.

Every read of regions, households, people and units goes through a selector that applies
these scopes; views and API handlers never filter by role themselves. Something outside a
user's scope is reported as not found (404), so its existence is not revealed.
"""

from django.db.models import Q, QuerySet

from pingan.accounts.models import Person, Role, Unit, User
from pingan.regions.models import Region


def user_scope_path(user: User) -> str | None:
    """The region path prefix the user may see; None when they may see nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    region = user.region
    if user.role and region is not None:
        return region.path
    if user.is_superuser:
        return "/"
    return None


def region_list(*, user: User) -> QuerySet[Region]:
    """Regions inside the user's subtree (their own region included)."""
    path = user_scope_path(user)
    if path is None:
        return Region.objects.none()
    return Region.objects.filter(path__startswith=path)


def region_ancestors(*, region: Region) -> QuerySet[Region]:
    """The chain from the province down to `region`, for breadcrumbs."""
    codes = [code for code in region.path.strip("/").split("/") if code]
    return Region.objects.filter(code__in=codes).order_by("path")


def user_get_for_role(*, role: str) -> QuerySet[User]:
    return User.objects.filter(role=role, is_active=True)


def user_can_see_households(user: User) -> bool:
    """Roster readers: the town center, leaders, the county and village admins.

    A cadre sees only the households assigned to them (`campaigns.selectors.household_scope_q`); a unit
    handler sees problems dispatched to their unit, never the roster.
    """
    return user.is_superuser or user.role in {
        Role.TOWN_ADMIN,
        Role.LEADER,
        Role.VILLAGE_ADMIN,
        Role.COUNTY_VIEWER,
    }


def user_can_reveal_personal_data(user: User) -> bool:
    """Who may ask to see a resident's full phone or ID number (each view is logged)."""
    return user.role in {Role.TOWN_ADMIN, Role.VILLAGE_ADMIN}


def person_list(*, user: User) -> QuerySet[Person]:
    """Cadres (党员干部) who visit inside the user's subtree."""
    path = user_scope_path(user)
    if path is None:
        return Person.objects.none()
    if user.role == Role.CADRE:
        return Person.objects.filter(user=user)
    return Person.objects.filter(visit_village__path__startswith=path)


def unit_list(*, user: User) -> QuerySet[Unit]:
    """Responsible units of the user's town (or county), as a dispatcher would choose them."""
    path = user_scope_path(user)
    if path is None:
        return Unit.objects.none()
    if user.role == Role.UNIT_HANDLER:
        return Unit.objects.filter(pk=user.unit_id) if user.unit_id else Unit.objects.none()
    # Units of the user's subtree, and of the town/county above them (the dispatch choices).
    above = region_ancestors(region=user.region) if user.region else Region.objects.none()
    return Unit.objects.filter(Q(region__path__startswith=path) | Q(region__in=above))
