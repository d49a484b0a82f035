"""Reads for the cadre's mobile page (field app): the cadre's campaign, filter tabs with
their counts, search, the form's questionnaire, a household's visit history.

Scoping is `household_list` / `household_list_with_visit_state` (a cadre sees only the
households assigned to them); everything here starts from those scoped querysets.
"""

from typing import Any

from django.db.models import Case, CharField, Count, Prefetch, Q, QuerySet, Value, When

from pingan.accounts.models import User
from pingan.campaigns.models import Campaign
from pingan.campaigns.selectors import campaign_current, household_list
from pingan.ledger.models import ProblemConcern
from pingan.regions.models import Household
from pingan.regions.selectors import town_for_user
from pingan.surveys.services import questionnaire_export
from pingan.visits.models import ConcernItem, Visit
from pingan.visits.selectors import household_list_with_visit_state


def field_campaign(*, user: User) -> Campaign | None:
    """The campaign the cadre works in now: the current one of their town."""
    town = town_for_user(user=user)
    return campaign_current(town=town) if town is not None else None


def household_list_for_field(*, user: User, campaign: Campaign) -> QuerySet[Household]:
    """The cadre's households with their visit state (see `household_list_with_visit_state`),
    in the order a cadre walks them: group, address."""
    return household_list_with_visit_state(user=user, campaign=campaign).order_by(
        "group_no", "address", "id"
    )


def questionnaire_for_form(*, campaign: Campaign) -> dict[str, Any] | None:
    """The campaign's questionnaire as the form shows it (2 queries). Polarity, scores and
    categories stay on the server, so nothing on the form hints at a "right" answer; the
    distinct question categories are given apart, as the choices for a problem raised."""
    if campaign.questionnaire is None:
        return None
    definition = questionnaire_export(questionnaire=campaign.questionnaire)
    categories = list(
        dict.fromkeys(q["category"] for q in definition["questions"] if q["category"])
    )
    questions = [
        {
            **{k: v for k, v in question.items() if k != "category"},
            "options": [
                {k: v for k, v in option.items() if k not in ("polarity", "score", "category")}
                for option in question["options"]
            ],
        }
        for question in definition["questions"]
    ]
    return {
        "id": campaign.questionnaire.pk,
        "title": definition["title"],
        "questions": questions,
        "categories": categories,
    }


# Filter tabs: 未走访 (no visit yet), 需再访 (last visit found no one home, not reached),
# 已走访 (reached: a counting visit in the campaign).
VISIT_STATES = ("not_visited", "revisit", "reached")


def household_visit_state_q(state: str) -> Q:
    """The filter for one tab, on a queryset annotated by `household_list_with_visit_state`."""
    if state == "not_visited":
        return Q(last_outcome__isnull=True)
    if state == "revisit":
        return Q(reached=False, last_outcome=Visit.Outcome.NOT_HOME)
    if state == "reached":
        return Q(reached=True)
    raise ValueError(f"unknown visit state {state!r}")


def household_visit_state_counts(*, households: QuerySet[Household]) -> dict[str, int]:
    """How many of `households` (annotated) fall in each tab, plus `all`; one GROUP BY query.

    Not `aggregate(Count(filter=Q(reached=True)))`: Django drops the `reached` Exists
    annotation from the aggregate's inner query, and SQLite then reads "reached" as a string
    literal (always false). Grouping on a CASE over the annotations keeps them.
    """
    state = Case(
        When(reached=True, then=Value("reached")),
        When(last_outcome=Visit.Outcome.NOT_HOME, then=Value("revisit")),
        When(last_outcome__isnull=True, then=Value("not_visited")),
        default=Value("other"),
        output_field=CharField(),
    )
    rows = households.order_by().annotate(state=state).values("state").annotate(n=Count("pk"))
    counts = dict.fromkeys(("all", *VISIT_STATES), 0)
    for row in rows:
        counts["all"] += row["n"]
        if row["state"] in counts:
            counts[row["state"]] += row["n"]
    return counts


def household_search_q(query: str) -> Q:
    """Search by address, or by 村民小组 when the query is a group number ("3", "3组", "第3组").
    Names are not searched: they are masked on the page, and a match would unmask them."""
    text = query.strip()
    group = text.removeprefix("第").removesuffix("组").removesuffix("小").strip()
    if group.isdigit():
        return Q(address__icontains=text) | Q(group_no=int(group))
    return Q(address__icontains=text)


def visit_list_for_household(
    *, user: User, campaign: Campaign, household_id: int
) -> QuerySet[Visit]:
    """Every visit of one household in the campaign, newest first, with who made it, the
    concern (反映) it raised with its items, and the problems that concern went into; empty
    when the household is outside the user's scope."""
    return (
        Visit.objects.filter(
            campaign=campaign, household_id=household_id, household__in=household_list(user=user)
        )
        .select_related("cadre", "concern")
        .prefetch_related(
            Prefetch("concern__items", queryset=ConcernItem.objects.order_by("position", "id")),
            Prefetch(
                "concern__problem_links",
                queryset=ProblemConcern.objects.select_related("problem").order_by("problem__code"),
            ),
        )
        .order_by("-ended_at", "-id")
    )
