"""The caller's in-app inbox (站内消息): `GET /notifications` and `POST /notifications/read`."""

import datetime as dt
from typing import Annotated

from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator

from pingan.accounts.notifications import (
    notification_list,
    notification_mark_read,
    notification_unread_count,
)
from pingan.api.pagination import LimitOffset
from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.core import clock

router = Router(tags=["notifications"])

LocalDateTime = Annotated[dt.datetime, AfterValidator(clock.local)]


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="类型，如 problem_dispatch（交办）、problem_supervise（督办）")
    title: str
    body: str
    link: str = Field(description="相关页面的路径，如 /ledger/12/")
    created_at: LocalDateTime
    read_at: LocalDateTime | None


class InboxOut(Schema):
    items: list[NotificationOut]
    count: int = Field(description="符合条件的消息总数")
    unread: int = Field(description="未读消息数（不受分页与筛选影响）")


class MarkReadIn(Schema):
    ids: list[int] | None = Field(
        None, max_length=500, description="要标为已读的消息编号；不传则全部标为已读"
    )


class MarkReadOut(Schema):
    marked: int = Field(description="本次标为已读的条数")


@router.get("", response={200: InboxOut, 401: ErrorOut, 422: ErrorOut}, summary="我的消息")
def inbox(
    request: AuthedRequest,
    page: Query[LimitOffset.Input],
    unread: bool = Query(False, description="只看未读"),
):
    notices = notification_list(user=request.auth)
    if unread:
        notices = notices.filter(read_at__isnull=True)
    return {
        "items": notices[page.offset : page.offset + page.limit],
        "count": notices.count(),
        "unread": notification_unread_count(user=request.auth),
    }


@router.post("/read", response={200: MarkReadOut, 401: ErrorOut, 422: ErrorOut}, summary="标为已读")
def mark_read(request: AuthedRequest, payload: MarkReadIn):
    return {"marked": notification_mark_read(user=request.auth, ids=payload.ids)}
