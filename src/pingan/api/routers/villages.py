"""Villages the caller may see, with the current campaign's quota and the roster counts."""

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from pingan.api.pagination import LimitOffset
from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.regions.models import Region
from pingan.regions.selectors import village_list_with_progress

router = Router(tags=["villages"])


class TownRef(Schema):
    id: int
    name: str


class VillageOut(Schema):
    """One village; `quota` is from the current campaign of its town (0 when there is none)."""

    id: int
    code: str
    name: str
    town: TownRef
    quota: int
    roster_households: int
    active_households: int
    cadre_count: int

    @staticmethod
    def resolve_town(village: Region) -> Region:
        return village.parent  # type: ignore[return-value]


@router.get("", response={200: list[VillageOut], 401: ErrorOut, 422: ErrorOut}, summary="村列表")
@paginate(LimitOffset)
def village_list(request: AuthedRequest):
    return village_list_with_progress(user=request.auth)


@router.get(
    "/{int:village_id}",
    response={200: VillageOut, 401: ErrorOut, 404: ErrorOut},
    summary="村详情",
)
def village_detail(request: AuthedRequest, village_id: int):
    return get_object_or_404(village_list_with_progress(user=request.auth), pk=village_id)
