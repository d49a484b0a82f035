"""思想工作 (talks, docs/ledger.md): a resident unhappy with nothing concrete to fix is talked
with face to face by the visiting cadre, who records the date, what was said and whether the
resident's view changed (`visits.concerns.thought_work_record`)."""

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from django.db.models import F, QuerySet
from django.http import Http404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import field_validator

from pingan.accounts.models import Role, User
from pingan.api.pagination import LimitOffset
from pingan.api.routers.concerns import ConcernItemOut, refusal
from pingan.api.schemas import (
    HouseholdRef,
    LocalDateTime,
    Ref,
    choices_text,
    enum_schema,
    errors_for,
    one_of,
)
from pingan.api.security import AuthedRequest
from pingan.visits.concerns import ConcernError, ConcernForbidden, thought_work_record
from pingan.visits.models import ConcernItem, ThoughtWork
from pingan.visits.selectors import thought_work_list

router = Router(tags=["talks"])

VIEW_LABELS = dict(ThoughtWork.View.choices)
STATUS_LABELS = {"pending": "待谈话", "recorded": "已记录"}

ViewCode = Annotated[str, enum_schema(VIEW_LABELS)]
StatusCode = Annotated[str, enum_schema(STATUS_LABELS)]


# The roles that record talks (`visits.concerns.user_may_record_talk`): any other is refused
# with 403 before the lookup, since it may see the concern the talk came from.
RECORDER_ROLES = frozenset({Role.CADRE, Role.VILLAGE_ADMIN})


@dataclass(frozen=True)
class TalkFilters:
    status: str = ""  # pending | recorded
    village_id: int | None = None


def _talks(*, user: User, filters: TalkFilters | None = None) -> QuerySet[ThoughtWork]:
    """The talks the user records (`visits.selectors.thought_work_list`) with their cadre,
    filtered: the waiting ones first, the oldest first; then the recorded ones, the latest
    first."""
    talks = thought_work_list(user=user).select_related("cadre")
    filters = filters or TalkFilters()
    if filters.status == "pending":
        talks = talks.filter(recorded_at__isnull=True)
    elif filters.status == "recorded":
        talks = talks.filter(recorded_at__isnull=False)
    if filters.village_id:
        talks = talks.filter(village_id=filters.village_id)
    return talks.order_by(F("recorded_at").desc(nulls_first=True), "created_at", "id")


def _talk_get(*, user: User, talk_id: int) -> ThoughtWork:
    talk = _talks(user=user).filter(pk=talk_id).first()
    if talk is None:
        raise Http404("talk not found")
    return talk


class TalkOut(Schema):
    """One 思想工作 case: whom to talk with, what they said (the concern's items), and the
    record of the talk once made."""

    id: int
    concern_id: int
    village: Ref
    household: HouseholdRef | None
    cadre: Ref | None = Field(description="负责谈话的走访干部")
    reported_at: LocalDateTime = Field(description="群众反映的时间")
    items: list[ConcernItemOut] = Field(description="群众反映的内容")
    talked_on: dt.date | None = Field(description="谈话日期")
    notes: str = Field(description="谈话内容")
    view: str = Field(description=f"群众看法：{choices_text(VIEW_LABELS)}；未记录时为空")
    view_label: str
    recorded_at: LocalDateTime | None

    @staticmethod
    def resolve_reported_at(talk: ThoughtWork) -> dt.datetime:
        return talk.concern.reported_at

    @staticmethod
    def resolve_items(talk: ThoughtWork) -> list[ConcernItem]:
        return list(talk.concern.items.all())

    @staticmethod
    def resolve_view_label(talk: ThoughtWork) -> str:
        return VIEW_LABELS.get(talk.view, "")


class TalkFilterIn(Schema):
    status: StatusCode | None = Field(None, description=f"状态：{choices_text(STATUS_LABELS)}")
    village_id: int | None = Field(None, description="村")

    _status = field_validator("status")(one_of(STATUS_LABELS, "状态"))


class TalkRecordIn(Schema):
    talked_on: dt.date | None = Field(None, description="谈话日期（不能晚于今天）")
    notes: str = Field("", max_length=2000, description="谈话内容")
    view: ViewCode = Field("", max_length=16, description=f"群众看法：{choices_text(VIEW_LABELS)}")


@router.get(
    "",
    response={200: list[TalkOut]} | errors_for(401, 422),
    summary="我负责的思想工作（待谈话的在前，可筛选）",
    description="走访干部：自己走访的住户中需要做思想工作的；村管理员：本村走访干部没有账号"
    "或已停用的（由村管理员代记）。其他角色没有需要记录的思想工作（列表为空），反映的梳理"
    "结果见 `GET /concerns`。",
)
@paginate(LimitOffset)
def talk_list(request: AuthedRequest, filters: Query[TalkFilterIn]):
    return _talks(
        user=request.auth,
        filters=TalkFilters(status=filters.status or "", village_id=filters.village_id),
    )


@router.post(
    "/{int:talk_id}",
    response={200: TalkOut} | errors_for(401, 403, 404, 422),
    summary="记录思想工作（谈话日期、内容、群众看法是否转变）",
    description="由负责该户的走访干部记录（干部没有账号或已停用时由村管理员代记）；其他角色"
    "返回 403，不是自己负责的返回 404。再次提交即更正记录。",
)
def talk_record(request: AuthedRequest, talk_id: int, payload: TalkRecordIn):
    if request.auth.role not in RECORDER_ROLES:
        return refusal(ConcernForbidden("只有走访该户的干部可以记录思想工作"))
    _talk_get(user=request.auth, talk_id=talk_id)  # not theirs: 404
    try:
        thought_work_record(
            actor=request.auth,
            thought_work_id=talk_id,
            talked_on=payload.talked_on,
            notes=payload.notes,
            view=payload.view,
        )
    except ConcernError as exc:
        return refusal(exc)
    return _talk_get(user=request.auth, talk_id=talk_id)
