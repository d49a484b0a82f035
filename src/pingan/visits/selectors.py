"""Reads about visits: the cadre's households with their visit state, reached counts."""

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least

from pingan.accounts.models import Person, Role, User
from pingan.accounts.selectors import user_scope_path
from pingan.campaigns.models import Assignment, Campaign
from pingan.campaigns.selectors import (
    assignment_current_list,
    household_list,
    village_list_with_progress,
)
from pingan.core import clock
from pingan.regions.models import Household, Region
from pingan.regions.selectors import count_subquery
from pingan.surveys.models import Questionnaire
from pingan.visits.models import Answer, Concern, ConcernItem, ThoughtWork, Visit
from pingan.visits.rates import HUNDRED, RateFigure, _ratio, rate_figures


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


# ---------------------------------------------------------------------------------------------
# 走访进度: reached households, completion against quota, revisits and vacancies, per village,
# per cadre and per town. Every count is SQL (correlated subqueries, so nothing fans out); the
# ratios are exact Decimal divisions of those integers, done by `progress_ratio` only.
#
# Definitions (docs/architecture.md):
# - reached: a household with a counting visit (completed, phone, refused) in the campaign;
#   households are counted, not visits. `reached_by_phone`: reached, but never in person.
# - reached today: households whose *first* counting visit was done today (Asia/Shanghai), so
#   the days add up to the total. A visit is dated by the phone's `ended_at` (what the cadre
#   did and when: a visit done offline on Monday and synced on Tuesday is Monday's work),
#   but never later than its server `received_at` (a phone clock running ahead cannot move a
#   visit into a day that has not come yet).
# - to revisit (待再访): an active household whose last visit (by `ended_at`) was not_home and
#   which is not reached.
# - vacancy pending: an active, unreached household whose vacant visit awaits the village
#   admin's confirmation; confirmed, the household turns vacant and leaves the roster
#   denominator (`active_households`).
# - unreached: active households without a counting visit. Roster coverage (户户必到) is
#   (active − unreached) ÷ active; completion is reached ÷ quota and may pass 100%.

# A campaign, or an OuterRef to one (typed Any for the stubs, as campaigns.selectors does).
CampaignRef = Campaign | Any


def visit_done_at() -> Least:
    """When a visit was done, for counting it on a day: the phone's end time, capped by the
    time the server received it."""
    return Least("ended_at", "received_at", output_field=DateTimeField())


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of `day` in Asia/Shanghai and of the day after (aware)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=clock.SHANGHAI)
    return start, start + dt.timedelta(days=1)


def progress_ratio(part: int | None, whole: int | None) -> Decimal | None:
    """part ÷ whole in %, exact, rounded half-up to two places; None when whole is 0."""
    return _ratio(HUNDRED * (part or 0), whole or 0)


@dataclass(frozen=True)
class Progress:
    """The visit progress of one village or a sum of villages, with the two ratios."""

    quota: int
    active_households: int
    reached_households: int
    reached_by_phone: int
    reached_today: int
    to_revisit: int
    unreached_households: int
    vacant_pending: int
    vacant_confirmed: int
    questionnaire_count: int

    @classmethod
    def of(cls, village: Any) -> "Progress":
        """From a village annotated by `village_list_with_visit_progress`."""
        return cls(**{f.name: getattr(village, f.name) for f in fields(cls)})

    @property
    def completion(self) -> Decimal | None:
        """Reached ÷ quota in % (the quota is a floor: this may pass 100); None without quota."""
        return progress_ratio(self.reached_households, self.quota)

    @property
    def covered_households(self) -> int:
        """Active roster households that are reached."""
        return self.active_households - self.unreached_households

    @property
    def roster_coverage(self) -> Decimal | None:
        """户户必到: reached ÷ active roster households in % (confirmed vacant ones are out)."""
        return progress_ratio(self.covered_households, self.active_households)

    @property
    def reached_in_person(self) -> int:
        return self.reached_households - self.reached_by_phone


def _household_count(visits: QuerySet[Visit], field: str) -> Coalesce:
    """COUNT(DISTINCT household) of `visits` per outer row (matched on `field`), correlated."""
    counted = (
        visits.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("household", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _same_household(**extra: Any) -> QuerySet[Visit]:
    """Visits of the outer visit's household in the outer visit's campaign."""
    return Visit.objects.filter(
        household=OuterRef("household"), campaign=OuterRef("campaign"), **extra
    )


def visit_list_counting(*, campaign: CampaignRef) -> QuerySet[Visit]:
    return Visit.objects.filter(campaign=campaign, counts=True)


def visit_list_first_reach(*, campaign: CampaignRef, day: dt.date) -> QuerySet[Visit]:
    """Counting visits done on `day` whose household had no counting visit before that day."""
    start, end = day_bounds(day)
    before = (
        _same_household(counts=True).annotate(done_at=visit_done_at()).filter(done_at__lt=start)
    )
    return (
        visit_list_counting(campaign=campaign)
        .annotate(done_at=visit_done_at())
        .filter(done_at__gte=start, done_at__lt=end)
        .exclude(Exists(before))
    )


def visit_list_revisit(*, campaign: CampaignRef) -> QuerySet[Visit]:
    """The not_home visits that leave their household to revisit: each is the household's
    last visit of the campaign, the household is active and has no counting visit. One row
    per household (ties on `ended_at` are broken by id, as the visit ordering does)."""
    later = _same_household().filter(
        Q(ended_at__gt=OuterRef("ended_at"))
        | Q(ended_at=OuterRef("ended_at"), pk__gt=OuterRef("pk"))
    )
    return (
        Visit.objects.filter(
            campaign=campaign,
            outcome=Visit.Outcome.NOT_HOME,
            household__status=Household.Status.ACTIVE,
        )
        .exclude(Exists(later))
        .exclude(Exists(_same_household(counts=True)))
    )


def visit_list_vacancy_pending(*, campaign: CampaignRef) -> QuerySet[Visit]:
    """Vacant visits waiting for the village admin: unconfirmed, of an active household that
    nobody has reached (a counting visit contradicts the vacancy)."""
    return Visit.objects.filter(
        campaign=campaign,
        outcome=Visit.Outcome.VACANT,
        vacancy_confirmed_at__isnull=True,
        household__status=Household.Status.ACTIVE,
    ).exclude(Exists(_same_household(counts=True)))


def village_progress_annotate(
    villages: QuerySet[Region], *, campaign: Campaign | None = None, today: dt.date | None = None
) -> QuerySet[Region]:
    """`villages` with the counts of `Progress` (see the definitions above), one correlated
    subquery each, so the list stays one query. The campaign is `campaign`, else each
    village's `current_campaign_id` annotation (as `village_list_with_progress` gives it),
    so a county-wide list takes each town's own campaign. `today` defaults to clock.today().
    """
    ref: CampaignRef = campaign if campaign is not None else OuterRef("current_campaign_id")
    # Inside the household subquery below, the village row is one level further out.
    nested_ref: CampaignRef = (
        campaign if campaign is not None else OuterRef(OuterRef("current_campaign_id"))
    )
    reached = Visit.objects.filter(household=OuterRef("pk"), campaign=nested_ref, counts=True)
    in_person = _same_household(counts=True).exclude(outcome=Visit.Outcome.PHONE)
    counting = visit_list_counting(campaign=ref)
    return villages.annotate(
        reached_households=_household_count(counting, "village"),
        reached_by_phone=_household_count(
            counting.filter(outcome=Visit.Outcome.PHONE).exclude(Exists(in_person)), "village"
        ),
        reached_today=_household_count(
            visit_list_first_reach(campaign=ref, day=today or clock.today()), "village"
        ),
        to_revisit=count_subquery(visit_list_revisit(campaign=ref), "village"),
        unreached_households=count_subquery(
            Household.objects.filter(status=Household.Status.ACTIVE).exclude(Exists(reached)),
            "village",
        ),
        vacant_pending=_household_count(visit_list_vacancy_pending(campaign=ref), "village"),
        vacant_confirmed=_household_count(
            Visit.objects.filter(
                campaign=ref, outcome=Visit.Outcome.VACANT, vacancy_confirmed_at__isnull=False
            ),
            "village",
        ),
        questionnaire_count=count_subquery(
            Visit.objects.filter(campaign=ref, questionnaire__isnull=False), "village"
        ),
    )


def village_list_with_visit_progress(
    *, user: User, town: Region | None = None, today: dt.date | None = None
) -> QuerySet[Region]:
    """The villages the user may see with the roster figures of `village_list_with_progress`
    and the visit progress of `village_progress_annotate`, in one query: what the town and
    village pages and `GET /api/v1/villages` show."""
    return village_progress_annotate(village_list_with_progress(user=user, town=town), today=today)


def village_progress_totals(*, villages: QuerySet[Region]) -> Progress:
    """The sums over `villages` (annotated by `village_list_with_visit_progress`), in one
    aggregate query over the same annotations: the town's totals equal the sum of its rows
    by construction (a household belongs to one village)."""
    names = [f.name for f in fields(Progress)]
    # The aggregates need names of their own: one named like the annotation it sums would
    # replace that annotation in the query.
    totals = villages.order_by().aggregate(
        **{f"total_{name}": Coalesce(Sum(name), 0) for name in names}
    )
    return Progress(**{name: int(totals[f"total_{name}"]) for name in names})


def cadre_progress_annotate(
    cadres: QuerySet[Person], *, campaign: Campaign | None
) -> QuerySet[Person]:
    """`cadres` with `reached_households` and `to_revisit` among the active households of
    their visiting village they hold now (分片包干: a cadre answers for their slice, whoever
    visited). `assigned_households` comes from `campaigns.selectors.cadre_list_with_coverage`.
    """
    held = assignment_current_list(campaign=campaign).filter(
        household__status=Household.Status.ACTIVE, household__village=OuterRef("visit_village")
    )
    if campaign is None:
        held = held.none()
    reached = Visit.objects.filter(
        household=OuterRef("household"), campaign=OuterRef("campaign"), counts=True
    )
    revisit = visit_list_revisit(campaign=campaign).filter(household=OuterRef("household"))
    return cadres.annotate(
        reached_households=count_subquery(held.filter(Exists(reached)), "cadre"),
        to_revisit=count_subquery(held.filter(Exists(revisit)), "cadre"),
    )


def household_list_to_revisit(
    *, user: User, village: Region, campaign: Campaign | None
) -> QuerySet[Household]:
    """The households of `village` the user may see that must be visited again, with
    `last_visit_at` (the not_home visit), `not_home_visits`, `last_cadre_name` (who found
    nobody home) and `cadre_name_now` (who holds the household now); by group and address."""
    if campaign is None:
        return Household.objects.none()
    revisit = visit_list_revisit(campaign=campaign).filter(household=OuterRef("pk"))
    current = assignment_current_list(campaign=campaign).filter(household=OuterRef("pk"))
    not_home = Visit.objects.filter(campaign=campaign, outcome=Visit.Outcome.NOT_HOME)
    return (
        household_list(user=user, village=village)
        .filter(Exists(revisit))
        .annotate(
            last_visit_at=Subquery(revisit.values("ended_at")[:1]),
            last_cadre_name=Subquery(revisit.values("cadre__name")[:1]),
            not_home_visits=count_subquery(not_home, "household"),
            cadre_name_now=Subquery(current.values("cadre__name")[:1]),
        )
        .order_by(F("group_no").asc(nulls_last=True), "address", "id")
    )


def visit_list(*, user: User) -> QuerySet[Visit]:
    """Visits of the households the user may see (scoped as `household_list`)."""
    return Visit.objects.filter(household__in=household_list(user=user).order_by().values("pk"))


def visit_list_vacancy_to_confirm(
    *, user: User, village: Region, campaign: Campaign | None
) -> QuerySet[Visit]:
    """The vacant visits of `village` awaiting confirmation that the user may see: the
    latest one per household, oldest first, with household and cadre."""
    if campaign is None:
        return Visit.objects.none()
    pending = visit_list_vacancy_pending(campaign=campaign)
    latest = pending.filter(household=OuterRef("household")).order_by("-ended_at", "-id")
    return (
        visit_list(user=user)
        .filter(village=village, pk=Subquery(latest.values("pk")[:1]))
        .select_related("household", "cadre")
        .order_by("ended_at", "id")
    )


def user_can_confirm_vacancy(*, user: User, village: Region) -> bool:
    """The village's own admin, or the town center of its town (docs/architecture.md)."""
    if not user.is_authenticated or not user.is_active or user.region_id is None:
        return False
    if user.role == Role.TOWN_ADMIN:
        return village.parent_id == user.region_id
    if user.role == Role.VILLAGE_ADMIN:
        return village.pk == user.region_id
    return False


def user_may_confirm_vacancies(user: User) -> bool:
    """The roles that may confirm a vacancy somewhere (checked before any lookup)."""
    return user.role in {Role.TOWN_ADMIN, Role.VILLAGE_ADMIN}


def rate_definitions(*, campaign: Campaign | None) -> list[dict]:
    """The rates of the campaign's current questionnaire (one query); none without one."""
    if campaign is None or campaign.questionnaire_id is None:
        return []
    rates = (
        Questionnaire.objects.filter(pk=campaign.questionnaire_id)
        .values_list("rates", flat=True)
        .first()
    )
    return list(rates or [])


def rate_answers(*, campaign: Campaign, villages: QuerySet[Region]) -> QuerySet[Answer]:
    """The answers the rates of `villages` are computed over: every questionnaire taken in
    the campaign's visits there."""
    return Answer.objects.filter(
        visit__campaign=campaign, visit__village__in=villages.order_by().values("pk")
    )


def village_rates(
    *, campaign: Campaign | None, villages: QuerySet[Region], definitions: list[dict]
) -> dict[object, dict[str, RateFigure]]:
    """{village id: {rate key: RateFigure}} over `villages`, one query (visits.rates)."""
    if campaign is None or not definitions:
        return {}
    return rate_figures(
        answers=rate_answers(campaign=campaign, villages=villages), definitions=definitions
    )


def area_rates(
    *, campaign: Campaign | None, villages: QuerySet[Region], definitions: list[dict]
) -> list[tuple[dict, RateFigure | None]]:
    """Every rate of `definitions` pooled over `villages` (one query), in the questionnaire's
    order, each with its figure or None when nobody answered it."""
    if campaign is None or not definitions:
        return []
    figures = rate_figures(
        answers=rate_answers(campaign=campaign, villages=villages),
        definitions=definitions,
        group_by=None,
    ).get(None, {})
    return [(d, figures.get(d["key"])) for d in definitions]


# ---------------------------------------------------------------------------------------------
# Concerns (反映): the town center, leaders and the county see their region's, a village admin
# their village's, a cadre those of their own visits and households, a unit handler none.


def concern_scope_q(user: User) -> Q | None:
    """The filter on Concern for this user, or None when they may see no concern."""
    path = user_scope_path(user)
    if path is None or user.role == Role.UNIT_HANDLER:
        return None
    in_region = Q(village__path__startswith=path)
    if user.role == Role.CADRE:
        return in_region & Q(cadre__user=user)
    return in_region


def concern_list(*, user: User) -> QuerySet[Concern]:
    scope = concern_scope_q(user)
    if scope is None:
        return Concern.objects.none()
    return Concern.objects.filter(scope)


# ---------------------------------------------------------------------------------------------
# 思想工作: the talks the visiting cadre has to hold and record (`concerns.thought_work_record`).

RECENT_TALK_DAYS = 30  # recorded talks stay in the cadre's list this long, to correct them


def thought_work_scope_q(user: User) -> Q | None:
    """The filter on ThoughtWork for the talks `user` records (the rule of
    `concerns.user_may_record_talk`): a cadre, their own cases; a village admin, the cases of
    their village whose cadre cannot sign in. None for every other role."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.CADRE:
        return Q(cadre__user=user)
    if user.role == Role.VILLAGE_ADMIN and user.region_id is not None:
        return Q(village_id=user.region_id) & (
            Q(cadre__isnull=True) | Q(cadre__user__isnull=True) | Q(cadre__active=False)
        )
    return None


def thought_work_list(*, user: User) -> QuerySet[ThoughtWork]:
    """Every talk the user records, with the household and the concern (its items prefetched:
    what the resident said)."""
    scope = thought_work_scope_q(user)
    if scope is None:
        return ThoughtWork.objects.none()
    return (
        ThoughtWork.objects.filter(scope)
        .select_related("household", "village", "concern")
        .prefetch_related(
            Prefetch("concern__items", queryset=ConcernItem.objects.order_by("position", "id"))
        )
    )


def thought_work_list_for_field(
    *, user: User, now: dt.datetime | None = None
) -> QuerySet[ThoughtWork]:
    """The cadre's list: the talks not recorded yet (oldest case first), then those recorded in
    the last `RECENT_TALK_DAYS` days (newest first), which can still be corrected."""
    since = (now or clock.now()) - dt.timedelta(days=RECENT_TALK_DAYS)
    return (
        thought_work_list(user=user)
        .filter(Q(recorded_at__isnull=True) | Q(recorded_at__gte=since))
        .order_by(F("recorded_at").desc(nulls_first=True), "created_at", "id")
    )


def thought_work_count_to_record(*, user: User) -> int:
    """How many talks wait to be recorded (one query)."""
    scope = thought_work_scope_q(user)
    if scope is None:
        return 0
    return ThoughtWork.objects.filter(scope, recorded_at__isnull=True).count()
