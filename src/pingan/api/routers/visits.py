"""`POST /visits/sync`: a cadre's phone sends up to 200 visits; each is stored exactly once.

Items are validated one by one (not as one request body), so a malformed item is rejected
with its own field errors while the rest of the batch goes through. The content digest that
tells a true replay from a conflicting one is taken over the item's canonical JSON: key order,
spacing and the time zone a timestamp was written in do not matter.
"""

import datetime as dt
import hashlib
import json
import uuid as uuid_module
from decimal import Decimal
from typing import Any, Literal

from ninja import Router, Schema
from pydantic import BaseModel, Field, TypeAdapter, field_validator
from pydantic import ValidationError as PydanticValidationError

from pingan.api.errors import translate_error
from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.surveys.answers import AnswerIn
from pingan.visits.services import BATCH_LIMIT, ProblemIn, SyncResult, VisitIn, visit_sync

router = Router(tags=["visits"])

Outcome = Literal["completed", "phone", "refused", "not_home", "vacant"]


# Items are plain pydantic models, not ninja Schemas: they are validated one by one in a loop,
# and ninja's Schema wraps every input in a Django-aware getter that costs ~0.5 ms an item.
class AnswerItem(BaseModel):
    question: str = Field(min_length=1, max_length=40, description="题目代码，如 safety")
    options: list[str] = Field(default_factory=list, max_length=20, description="所选选项文字")
    text: str = Field("", max_length=2000)
    number: Decimal | None = None
    answer_ms: int | None = Field(None, ge=0, le=24 * 3600 * 1000, description="作答用时")
    option_text: str = Field("", max_length=500, description="“其他”等选项旁填写的文字")


class ProblemItem(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    category: str = Field("", max_length=40)


class VisitItem(BaseModel):
    """One visit. `uuid` is made on the phone when the visit starts and never changes."""

    uuid: uuid_module.UUID
    household_id: int
    outcome: Outcome
    started_at: dt.datetime = Field(description="设备开始时间，须带时区")
    ended_at: dt.datetime = Field(description="设备结束时间，须带时区")
    questionnaire_id: int | None = None
    answers: list[AnswerItem] = Field(default_factory=list, max_length=100)
    leaflet_handed: bool = False
    opinion: str = Field("", max_length=4000)
    note: str = Field("", max_length=2000)
    problems: list[ProblemItem] = Field(default_factory=list, max_length=20)
    lat: Decimal | None = Field(None, ge=-90, le=90, decimal_places=6)
    lng: Decimal | None = Field(None, ge=-180, le=180, decimal_places=6)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    mock_location: bool | None = None
    device_id: str = Field("", max_length=100)
    app_version: str = Field("", max_length=40)

    @field_validator("started_at", "ended_at")
    @classmethod
    def aware_utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("时间须带时区（如 2021-10-18T09:00:00+08:00）")
        return value.astimezone(dt.UTC)


class SyncIn(Schema):
    visits: list[dict[str, Any]] = Field(
        max_length=BATCH_LIMIT,
        description=f"最多 {BATCH_LIMIT} 条走访，每条的格式见 VisitItem；逐条校验、逐条返回结果",
    )


class SyncItemOut(Schema):
    uuid: str | None
    status: Literal["created", "duplicate", "conflict", "rejected"]
    code: int = Field(description="该条的 HTTP 语义状态：201 新建、200 重放、409 冲突、422 拒绝")
    visit_id: int | None = None
    concern_id: int | None = Field(
        None,
        description="这次走访带回的群众反映（有不满意回答、反映事项或意见时才有），待镇综治中心梳理",
    )
    detail: str = ""
    errors: list[dict[str, Any]] = Field(default_factory=list)


class SyncOut(Schema):
    results: list[SyncItemOut]
    summary: dict[str, int]


ITEM = TypeAdapter(VisitItem)
ITEM_CODE = {"created": 201, "duplicate": 200, "conflict": 409, "rejected": 422}


def _digest(item: VisitItem) -> str:
    canonical = json.dumps(item.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _visit_in(item: VisitItem) -> VisitIn:
    return VisitIn(
        uuid=item.uuid,
        digest=_digest(item),
        household_id=item.household_id,
        outcome=item.outcome,
        started_at=item.started_at,
        ended_at=item.ended_at,
        questionnaire_id=item.questionnaire_id,
        answers=tuple(
            AnswerIn(
                question=a.question,
                options=tuple(a.options),
                text=a.text,
                number=a.number,
                answer_ms=a.answer_ms,
                option_text=a.option_text,
            )
            for a in item.answers
        ),
        leaflet_handed=item.leaflet_handed,
        opinion=item.opinion,
        note=item.note,
        problems=tuple(ProblemIn(p.text, p.category) for p in item.problems),
        lat=item.lat,
        lng=item.lng,
        accuracy_m=item.accuracy_m,
        mock_location=item.mock_location,
        device_id=item.device_id,
        app_version=item.app_version,
    )


def _out(result: SyncResult) -> dict[str, Any]:
    return {
        "uuid": str(result.uuid),
        "status": result.status,
        "code": ITEM_CODE[result.status],
        "visit_id": result.visit_id,
        "concern_id": result.concern_id,
        "detail": result.detail,
        "errors": result.errors,
    }


@router.post(
    "/sync",
    response={200: SyncOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="批量同步走访（按客户端编号只记一次）",
)
def sync(request: AuthedRequest, payload: SyncIn):
    parsed: list[tuple[int, VisitIn | dict[str, Any]]] = []
    for position, raw in enumerate(payload.visits):
        try:
            parsed.append((position, _visit_in(ITEM.validate_python(raw))))
        except PydanticValidationError as exc:
            raw_uuid = raw.get("uuid") if isinstance(raw, dict) else None
            parsed.append(
                (
                    position,
                    {
                        "uuid": str(raw_uuid) if raw_uuid is not None else None,
                        "status": "rejected",
                        "code": 422,
                        "detail": "该条走访数据有误",
                        "errors": [translate_error(dict(e)) for e in exc.errors()],
                    },
                )
            )
    valid = [item for _, item in parsed if isinstance(item, VisitIn)]
    stored = iter(visit_sync(actor=request.auth, items=valid))
    results = [_out(next(stored)) if isinstance(item, VisitIn) else item for _, item in parsed]
    summary = {status: 0 for status in ITEM_CODE}
    for result in results:
        summary[result["status"]] += 1
    return {"results": results, "summary": summary}
