"""Villages the caller may see, with the current campaign's quota, the roster counts and the
visit progress (the same selector as the town and village pages)."""

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from pingan.api.pagination import LimitOffset
from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.regions.models import Region
from pingan.visits.selectors import Progress, village_list_with_visit_progress

router = Router(tags=["villages"])


class TownRef(Schema):
    id: int
    name: str


class VillageOut(Schema):
    """One village; `quota` and the visit figures are from the current campaign of its town
    (0 and null when there is none)."""

    id: int
    code: str
    name: str
    town: TownRef
    quota: int
    roster_households: int
    active_households: int
    cadre_count: int
    reached_households: int = Field(
        description="已走访户数：本次活动中有计入走访（入户、电话、拒绝调查）的住户数，按户计，不按次计"
    )
    reached_today: int = Field(
        description="今日走访：今天（北京时间）首次走访到的户数；以手机记录的结束时间为准，"
        "但不晚于服务器收到的时间"
    )
    completion: str | None = Field(
        description="完成率：已走访户数 ÷ 任务数 × 100，百分数，字符串，保留两位小数（四舍五入），"
        '如 "37.33"；任务数是底数，可超过 "100.00"；任务数为 0 时为 null',
        examples=["37.33"],
    )
    to_revisit: int = Field(
        description="待再访：在住住户中最后一次走访为“不在家”且尚未走访到的户数"
    )

    @staticmethod
    def resolve_town(village: Region) -> Region:
        return village.parent  # type: ignore[return-value]

    @staticmethod
    def resolve_completion(village: Region) -> str | None:
        completion = Progress.of(village).completion
        return None if completion is None else str(completion)


@router.get("", response={200: list[VillageOut], 401: ErrorOut, 422: ErrorOut}, summary="村列表")
@paginate(LimitOffset)
def village_list(request: AuthedRequest):
    return village_list_with_visit_progress(user=request.auth)


@router.get(
    "/{int:village_id}",
    response={200: VillageOut, 401: ErrorOut, 404: ErrorOut},
    summary="村详情",
)
def village_detail(request: AuthedRequest, village_id: int):
    return get_object_or_404(village_list_with_visit_progress(user=request.auth), pk=village_id)
