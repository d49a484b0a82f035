"""`GET /towns/{town_id}/bulletin`: a town's daily bulletin (每日通报) as JSON, the document of
docs/bulletin.md (schema `pingan.bulletin/1`) plus `bulletin` {number, version, published}:
the latest published version of the day, or the live figures while it has none."""

import datetime as dt
from typing import Any

from ninja import Router
from ninja.errors import HttpError

from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.core import clock
from pingan.reports.selectors import bulletin_for_view, bulletin_town_get

router = Router(tags=["bulletins"])


@router.get(
    "/{town_id}/bulletin",
    response={200: dict[str, Any], 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="某镇某日的每日通报（JSON，键见 docs/bulletin.md）",
)
def town_bulletin(request: AuthedRequest, town_id: int, date: dt.date | None = None):
    user = request.auth
    town = bulletin_town_get(user=user, town_id=town_id)
    day = date or clock.today()
    if day > clock.today():
        raise HttpError(422, f"{day:%Y-%m-%d} 还没有到，没有通报")
    view = bulletin_for_view(user=user, town=town, day=day)
    return {
        **view.figures,
        "bulletin": {"number": view.number, "version": view.version, "published": view.published},
    }
