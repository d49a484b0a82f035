"""`GET /assignments`: what a cadre's phone needs to work offline — their households (personal
data masked), each one's visit state, and the campaign's current questionnaire."""

import datetime as dt
from typing import Any

from ninja import Field, Router, Schema
from ninja.errors import HttpError

from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.campaigns.selectors import campaign_current
from pingan.core import clock
from pingan.core.pii import mask_name
from pingan.regions.selectors import town_for_user
from pingan.surveys.services import questionnaire_export
from pingan.visits.selectors import (
    household_ids_unassigned_since,
    household_list_with_visit_state,
)

router = Router(tags=["assignments"])


class HouseholdOut(Schema):
    id: int
    village_id: int
    village: str
    group_no: int | None
    address: str
    head_name: str = Field(description="户主姓名（已脱敏）")
    phone: str = Field(description="手机号（已脱敏）")
    size: int
    tags: list[str]
    status: str
    lat: float | None
    lng: float | None
    reached: bool
    last_outcome: str | None
    last_visit_at: dt.datetime | None


class AssignmentsOut(Schema):
    server_time: dt.datetime = Field(description="下次增量同步时作为 since 传回")
    campaign: dict[str, Any] | None
    questionnaire: dict[str, Any] | None
    households: list[HouseholdOut]
    removed: list[int] = Field(description="自 since 以来不再分给您的住户编号")


def _household(h) -> dict[str, Any]:
    return {
        "id": h.pk,
        "village_id": h.village_id,
        "village": h.village.name,
        "group_no": h.group_no,
        "address": h.address,
        "head_name": mask_name(h.head_name),
        "phone": h.phone_masked,
        "size": h.size,
        "tags": h.tags,
        "status": h.status,
        "lat": float(h.lat) if h.lat is not None else None,
        "lng": float(h.lng) if h.lng is not None else None,
        "reached": h.reached,
        "last_outcome": h.last_outcome,
        "last_visit_at": h.last_visit_at,
    }


def _questionnaire(campaign) -> dict[str, Any] | None:
    if campaign.questionnaire is None:
        return None
    definition = questionnaire_export(questionnaire=campaign.questionnaire)
    # The phone shows the questions; polarity and scores stay on the server, so nothing on the
    # form hints at a "right" answer.
    for question in definition["questions"]:
        question["options"] = [
            {k: v for k, v in option.items() if k not in ("polarity", "score", "category")}
            for option in question["options"]
        ]
    return {"id": campaign.questionnaire.pk, "version": campaign.questionnaire.version,
            **definition}  # fmt: skip


@router.get(
    "",
    response={200: AssignmentsOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="我的包户清单与当前问卷（供离线使用）",
)
def assignments(request: AuthedRequest, since: dt.datetime | None = None):
    user = request.auth
    if since is not None and since.tzinfo is None:
        raise HttpError(422, "since 须带时区（如 2021-10-18T09:00:00+08:00）")
    server_time = clock.now()
    town = town_for_user(user=user)
    campaign = campaign_current(town=town) if town else None
    if campaign is None:
        return {"server_time": server_time, "campaign": None, "questionnaire": None,
                "households": [], "removed": []}  # fmt: skip
    households = household_list_with_visit_state(user=user, campaign=campaign, since=since)
    return {
        "server_time": server_time,
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "start_date": campaign.start_date,
            "end_date": campaign.end_date,
        },
        "questionnaire": _questionnaire(campaign),
        "households": [_household(h) for h in households],
        "removed": (
            household_ids_unassigned_since(user=user, campaign=campaign, since=since)
            if since is not None
            else []
        ),
    }
