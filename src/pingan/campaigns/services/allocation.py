"""分片包干: splitting a village's households among its cadres, by hand or in proportion.

`allocation_run` / `allocation_run_town` (the algorithm is `pingan.campaigns.allocation`),
`assignment_set` / `assignment_unlock` (by hand), and `cadre_handover` (a cadre leaves).

Every write takes the village's Region row with select_for_update first: one village, one
writer at a time, so two admins allocating at once cannot interleave (on SQLite the database
lock does the same). Assignments are never updated in place except to end them, and never
deleted: each change ends the current row and starts a new one.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest

from pingan.accounts.models import Person, User
from pingan.campaigns.allocation import allocate, household_order
from pingan.campaigns.models import Assignment, Campaign
from pingan.campaigns.selectors import (
    assignment_current_list,
    cadre_coverage_counts,
    cadre_list_active,
    user_can_allocate,
    village_coverage,
)
from pingan.core import clock
from pingan.regions.models import Household, Region


class AllocationError(ValueError):
    """An assignment that breaks a rule; `message` is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AllocationDenied(PermissionError):
    """The actor may not allocate in this village; `message` is for the user, in Chinese."""

    def __init__(self, message: str = "只有镇综治中心或本村管理员可以分配走访住户。") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CadreShare:
    """One cadre's households before and after an allocation (locked ones included)."""

    cadre_id: int
    name: str
    active: bool
    before: int
    after: int
    locked: int


@dataclass(frozen=True)
class Move:
    """A household whose cadre changes (`from_cadre` None: it had none)."""

    household_id: int
    group_no: int | None
    address: str
    from_cadre: str | None
    to_cadre: str


@dataclass
class AllocationResult:
    """What an allocation (or a handover) did, or would do when `dry_run`."""

    village: Region
    campaign: Campaign
    dry_run: bool
    households: int  # active households of the village
    cadres: list[CadreShare]
    moved: int  # households that had a cadre (on the roster or gone) and get another
    newly_assigned: int  # households that had no cadre and get one
    released: int  # assignments ended because the household is no longer active
    unassigned_before: int
    unassigned_after: int
    balanced: bool
    share: tuple[int, int]
    over_locked: list[str] = field(default_factory=list)
    dropped_locks: int = 0
    moves: list[Move] = field(default_factory=list)

    @property
    def active_cadres(self) -> int:
        return sum(1 for c in self.cadres if c.active)

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.newly_assigned or self.released)

    def warnings(self) -> list[str]:
        lines = []
        if not self.active_cadres and self.households:
            lines.append(f"{self.village.name}没有在岗的走访干部，无法分配。")
        if self.over_locked:
            lines.append(
                f"锁定给{'、'.join(self.over_locked)}的住户超过平均份额，"
                "无法做到各人户数相差不超过 1 户；已尽量均衡，可解除部分锁定后重新分配。"
            )
        elif not self.balanced and self.active_cadres:
            lines.append("各走访干部户数相差超过 1 户，可重新分配。")
        if self.dropped_locks:
            lines.append(
                f"{self.dropped_locks} 户锁定给已离岗或不在本村走访的干部，已解除锁定并重新分配。"
            )
        return lines

    def summary(self) -> str:
        """One line for the command and the page, in Chinese."""
        after = [c.after for c in self.cadres if c.active]
        low, high = min(after, default=0), max(after, default=0)
        each = f"{low} 户" if low == high else f"{low}～{high} 户"
        text = (
            f"{self.village.name}：在住 {self.households} 户，走访干部 {self.active_cadres} 名"
            + (f"，每人 {each}" if self.active_cadres else "")
            + f"；未分配 {self.unassigned_before} → {self.unassigned_after} 户，"
            f"调整 {self.moved} 户，新分配 {self.newly_assigned} 户"
            + (f"，注销 {self.released} 户（已不在住）" if self.released else "")
            + "。"
        )
        return text + ("（预览，未保存）" if self.dry_run else "")


def _allocation_check(*, actor: User | None, campaign: Campaign, village: Region) -> None:
    """The actor's right (None: the command line) and that the village is in the campaign."""
    if village.kind != Region.Kind.VILLAGE:
        raise AllocationError(f"“{village.name}”不是村（社区），不能分片包干。")
    if village.parent_id != campaign.town_id:
        raise AllocationError(f"{village.name}不在活动“{campaign.name}”所在的镇，不能分配。")
    if actor is not None and not user_can_allocate(user=actor, village=village):
        raise AllocationDenied()


def _village_lock(village: Region) -> None:
    Region.objects.select_for_update().filter(pk=village.pk).values_list("pk").first()


def _end(pks: list[int], now: dt.datetime) -> None:
    """End assignments at `now`, or at their start if that is later: a row stored by a clock
    ahead of this one (a database filled before the demo clock was set) ends empty rather
    than breaking the rule that an assignment never ends before it starts."""
    for start in range(0, len(pks), 500):
        Assignment.objects.filter(pk__in=pks[start : start + 500]).update(
            ended_at=Greatest(Value(now, output_field=DateTimeField()), F("started_at")),
            updated_at=now,
        )


def _allocate(
    *,
    campaign: Campaign,
    village: Region,
    actor: User | None,
    dry_run: bool,
    handover_from: Person | None = None,
) -> AllocationResult:
    """The allocation of one village (checks done by the caller, inside its transaction)."""
    households = list(
        Household.objects.filter(village=village, status=Household.Status.ACTIVE).values_list(
            "id", "group_no", "address"
        )
    )
    where = {pk: (group_no, address) for pk, group_no, address in households}
    order = household_order(households)
    roster = list(cadre_list_active(village=village).values_list("id", "name"))
    names = dict(roster)
    rows = list(
        assignment_current_list(campaign=campaign)
        .filter(household__village=village)
        .values_list("id", "household_id", "cadre_id", "locked")
    )
    current = {h: c for _, h, c, _ in rows if h in where}
    row_of = {h: pk for pk, h, _, _ in rows if h in where}
    released = [pk for pk, h, _, _ in rows if h not in where]
    plan = allocate(
        households=order,
        cadres=[pk for pk, _ in roster],
        current=current,
        locked={h: c for _, h, c, locked in rows if locked and h in where},
    )
    gone = set(current.values()) - set(names)
    if gone:
        names.update(Person.objects.filter(pk__in=gone).values_list("id", "name"))

    now = clock.now()
    changes = [(h, current.get(h), c) for h, c in plan.assignment.items() if current.get(h) != c]
    if not dry_run:
        _end([row_of[h] for h, old, _ in changes if old is not None] + released, now)
        Assignment.objects.bulk_create(
            [
                Assignment(
                    campaign=campaign,
                    household_id=h,
                    cadre_id=new,
                    started_at=now,
                    source=Assignment.Source.HANDOVER
                    if handover_from is not None and old == handover_from.pk
                    else Assignment.Source.ALLOCATION,
                    assigned_by=actor,
                    note=f"{handover_from.name}离岗交接"
                    if handover_from is not None and old == handover_from.pk
                    else "",
                )
                for h, old, new in changes
            ],
            batch_size=500,
        )

    before = Counter(current.values())
    covered_before = sum(1 for c in current.values() if c in plan.totals)
    shares = [
        CadreShare(
            cadre_id=pk,
            name=names[pk],
            active=pk in plan.totals,
            before=before[pk],
            after=plan.totals.get(pk, 0),
            locked=plan.locked.get(pk, 0),
        )
        for pk in [*plan.cadre_order, *sorted(gone, key=lambda pk: (names[pk], pk))]
    ]
    return AllocationResult(
        village=village,
        campaign=campaign,
        dry_run=dry_run,
        households=len(order),
        cadres=shares,
        moved=len(plan.moved),
        newly_assigned=sum(1 for _, old, _ in changes if old is None),
        released=len(released),
        unassigned_before=len(order) - covered_before,
        unassigned_after=len(order) - len(plan.assignment),
        balanced=plan.balanced,
        share=plan.share,
        over_locked=[names[pk] for pk in plan.over_locked],
        dropped_locks=len(plan.dropped_locks),
        moves=[
            Move(
                household_id=h,
                group_no=where[h][0],
                address=where[h][1],
                from_cadre=names[old] if old is not None else None,
                to_cadre=names[new],
            )
            for h, old, new in changes
        ],
    )


@transaction.atomic
def allocation_run(
    *, campaign: Campaign, village: Region, actor: User | None, dry_run: bool = False
) -> AllocationResult:
    """Split the village's active households among its active cadres (see
    `pingan.campaigns.allocation`): equal shares ±1, one contiguous 片 each, locked
    assignments kept, as few households moved as possible. `dry_run` computes and writes
    nothing. `actor` None is the command line (`pingan allocate`).
    """
    _allocation_check(actor=actor, campaign=campaign, village=village)
    if not dry_run:
        _village_lock(village)
    return _allocate(campaign=campaign, village=village, actor=actor, dry_run=dry_run)


@transaction.atomic
def allocation_run_town(
    *, campaign: Campaign, actor: User | None, dry_run: bool = False
) -> list[AllocationResult]:
    """`allocation_run` for every village of the campaign's town, in the town's order; all or
    nothing."""
    villages = Region.objects.filter(parent=campaign.town, kind=Region.Kind.VILLAGE).order_by(
        "sort_order", "code"
    )
    return [
        allocation_run(campaign=campaign, village=village, actor=actor, dry_run=dry_run)
        for village in villages
    ]


@transaction.atomic
def assignment_set(
    *,
    campaign: Campaign,
    household: Household,
    cadre: Person,
    actor: User | None,
    locked: bool = True,
    note: str = "",
) -> Assignment:
    """Give one household to one cadre by hand; locked by default, so re-allocation keeps it.
    The current assignment (if any) ends; asking for exactly what is there changes nothing."""
    village = household.village
    _allocation_check(actor=actor, campaign=campaign, village=village)
    if household.status != Household.Status.ACTIVE:
        raise AllocationError(f"“{household.address}”不是在住户，不能分配走访干部。")
    if not cadre.active:
        raise AllocationError(f"{cadre.name}已离岗，不能再分配住户。")
    if cadre.visit_village_id != village.pk:
        raise AllocationError(f"{cadre.name}不在{village.name}走访，不能分配本村住户。")
    _village_lock(village)
    note = note.strip()[:200]
    current = assignment_current_list(campaign=campaign).filter(household=household).first()
    if (
        current is not None
        and (current.cadre_id, current.locked) == (cadre.pk, locked)
        and note in ("", current.note)
    ):
        return current
    now = clock.now()
    if current is not None:
        _end([current.pk], now)
    return Assignment.objects.create(
        campaign=campaign,
        household=household,
        cadre=cadre,
        started_at=now,
        locked=locked,
        source=Assignment.Source.MANUAL,
        assigned_by=actor,
        note=note,
    )


@transaction.atomic
def assignment_unlock(
    *, campaign: Campaign, household: Household, actor: User | None, note: str = ""
) -> Assignment:
    """Release a hand-made assignment to re-allocation. The household keeps its cadre until
    the next allocation run; the history shows who unlocked it and when."""
    _allocation_check(actor=actor, campaign=campaign, village=household.village)
    _village_lock(household.village)
    current = assignment_current_list(campaign=campaign).filter(household=household).first()
    if current is None or not current.locked:
        raise AllocationError(f"“{household.address}”没有锁定的分配，无需解除。")
    now = clock.now()
    _end([current.pk], now)
    return Assignment.objects.create(
        campaign=campaign,
        household=household,
        cadre_id=current.cadre_id,
        started_at=now,
        locked=False,
        source=Assignment.Source.MANUAL,
        assigned_by=actor,
        note=note.strip()[:200] or "解除锁定",
    )


@transaction.atomic
def cadre_handover(
    *, campaign: Campaign, cadre: Person, to_cadre: Person | None, actor: User | None
) -> AllocationResult:
    """A cadre leaves (离岗): they are marked inactive and their households of their village
    go to `to_cadre` (locks kept as they were), or, without one, the village is allocated
    again among the remaining cadres. The new rows have source=handover; history is kept.
    """
    village = cadre.visit_village
    _allocation_check(actor=actor, campaign=campaign, village=village)
    if to_cadre is not None:
        if to_cadre.pk == cadre.pk:
            raise AllocationError("接手的干部不能是离岗干部本人。")
        if not to_cadre.active or to_cadre.visit_village_id != village.pk:
            raise AllocationError(f"{to_cadre.name}不是{village.name}在岗的走访干部，不能接手。")
    _village_lock(village)
    before = village_coverage(village=village, campaign=campaign)
    now = clock.now()
    Person.objects.filter(pk=cadre.pk).update(active=False, updated_at=now)
    cadre.active = False
    if to_cadre is None:
        result = _allocate(
            campaign=campaign, village=village, actor=actor, dry_run=False, handover_from=cadre
        )
        result.unassigned_before = before["unassigned_households"]
        return result

    rows = list(
        assignment_current_list(campaign=campaign)
        .filter(cadre=cadre, household__village=village)
        .select_related("household")
        .order_by("pk")
    )
    _end([row.pk for row in rows], now)
    Assignment.objects.bulk_create(
        [
            Assignment(
                campaign=campaign,
                household_id=row.household_id,
                cadre=to_cadre,
                started_at=now,
                locked=row.locked,
                source=Assignment.Source.HANDOVER,
                assigned_by=actor,
                note=f"{cadre.name}离岗交接",
            )
            for row in rows
        ]
    )
    handed = [row.household for row in rows if row.household.status == Household.Status.ACTIVE]
    after = village_coverage(village=village, campaign=campaign)
    counts = cadre_coverage_counts(village=village, campaign=campaign)
    held, locked = counts.get(to_cadre.pk, (0, 0))
    totals = [counts.get(c.pk, (0, 0))[0] for c in cadre_list_active(village=village)]
    return AllocationResult(
        village=village,
        campaign=campaign,
        dry_run=False,
        households=after["active_households"],
        cadres=[
            CadreShare(cadre.pk, cadre.name, active=False, before=len(handed), after=0, locked=0),
            CadreShare(
                to_cadre.pk,
                to_cadre.name,
                active=True,
                before=held - len(handed),
                after=held,
                locked=locked,
            ),
        ],
        moved=len(handed),
        newly_assigned=0,
        released=0,
        unassigned_before=before["unassigned_households"],
        unassigned_after=after["unassigned_households"],
        balanced=max(totals) - min(totals) <= 1,
        share=(min(totals), max(totals)),
        moves=[
            Move(h.pk, h.group_no, h.address, from_cadre=cadre.name, to_cadre=to_cadre.name)
            for h in handed
        ],
    )
