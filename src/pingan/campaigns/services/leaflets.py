"""宣传资料: leaflets the town center issues to a village (its governance director collects them)."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction

from pingan.accounts.models import Role, User
from pingan.campaigns.models import LeafletIssue
from pingan.campaigns.selectors import (
    campaign_current,
)
from pingan.core import clock
from pingan.regions.models import Region

LEAFLET_QUANTITY_MAX = 100_000


class LeafletIssueError(ValueError):
    """A leaflet issue that cannot be recorded; `message` is for the user, in Chinese, and
    `field` names the form field it is about ("" for the whole form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def user_can_record_leaflets(*, user: User, town: Region) -> bool:
    """Only the town center (镇综治中心, role town_admin) of that very town issues leaflets."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role == Role.TOWN_ADMIN
        and user.region_id == town.pk
    )


def leaflet_issue_record(
    *,
    actor: User,
    village: Region,
    quantity: int,
    collected_by: str = "",
    note: str = "",
    issued_at: dt.datetime | None = None,
) -> LeafletIssue:
    """Record leaflets issued to `village` in its town's current campaign (the campaign that
    started last): `quantity` copies (1..100,000), collected by `collected_by` (领取人).
    Only the town center of the village's town may record it."""
    town = village.parent
    if village.kind != Region.Kind.VILLAGE or town is None:
        raise LeafletIssueError(
            f"“{village.name}”不是村（社区），不能登记宣传资料。", field="village"
        )
    if not user_can_record_leaflets(user=actor, town=town):
        raise PermissionDenied("只有本镇综治中心（镇管理员）可以登记宣传资料的发放。")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise LeafletIssueError("数量应为整数（份）。", field="quantity")
    if not 1 <= quantity <= LEAFLET_QUANTITY_MAX:
        raise LeafletIssueError(f"数量应在 1 到 {LEAFLET_QUANTITY_MAX} 份之间。", field="quantity")
    collected_by, note = collected_by.strip(), note.strip()
    if len(collected_by) > 64:
        raise LeafletIssueError("领取人最多 64 个字。", field="collected_by")
    if len(note) > 200:
        raise LeafletIssueError("备注最多 200 个字。", field="note")
    campaign = campaign_current(town=town)
    if campaign is None:
        raise LeafletIssueError(f"{town.name}尚未设立走访活动，不能登记宣传资料的发放。")
    with transaction.atomic():
        return LeafletIssue.objects.create(
            campaign=campaign,
            village=village,
            quantity=quantity,
            collected_by=collected_by,
            issued_by=actor,
            issued_at=issued_at or clock.now(),
            note=note,
        )
