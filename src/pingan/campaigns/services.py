"""Writes for campaigns: loading the seed town (区划, 活动, 阶段, 任务数, 责任单位).

`seed_load` reads a TOML seed file (by default the notice's town, `seed/rujizhen.toml`),
compares it with the database, and only then writes, all in one transaction:

- anything missing is created;
- anything present and equal is left alone (no save, so `updated_at` does not move);
- a value that differs (a quota the town center edited, a phase date…) is an error unless
  `update=True`, because silently overwriting the town's own edits would be worse;
- a conflict of identity (another town with the seed town's name, a code that belongs to a
  different place) is always an error. Errors are collected first and nothing is written.

The second part is 分片包干: `allocation_run` (the algorithm is `pingan.campaigns.allocation`),
`assignment_set` / `assignment_unlock` (by hand), and `cadre_handover` (a cadre leaves).
"""

import datetime as dt
import itertools
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from pingan.accounts.models import Person, Role, Unit, User
from pingan.campaigns.allocation import allocate, household_order
from pingan.campaigns.models import Assignment, Campaign, LeafletIssue, Phase, VillageQuota
from pingan.campaigns.selectors import (
    assignment_current_list,
    cadre_coverage_counts,
    cadre_list_active,
    campaign_current,
    user_can_allocate,
    village_coverage,
)
from pingan.core import clock
from pingan.regions.models import Household, Region
from pingan.regions.services import region_ensure
from pingan.surveys.services import questionnaire_load_default

SEED_FILE = Path(__file__).resolve().parent / "seed" / "rujizhen.toml"

# The levels of the seed's region chain, from the root down to the town.
CHAIN = (
    ("province", Region.Kind.PROVINCE),
    ("city", Region.Kind.CITY),
    ("county", Region.Kind.COUNTY),
    ("town", Region.Kind.TOWN),
)

# Campaign fields the seed sets, compared one by one (the label is the model's verbose name).
CAMPAIGN_FIELDS = (
    "start_date",
    "end_date",
    "notice_date",
    "deadline_basis",
    "general_days",
    "complex_days",
    "return_days",
)


class SeedError(Exception):
    """The seed cannot be loaded; `problems` are the reasons, each a sentence for the user."""

    def __init__(self, headline: str, problems: list[str] | None = None) -> None:
        self.headline = headline
        self.problems = problems or []
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return "\n".join([self.headline, *(f"  - {p}" for p in self.problems)])


@dataclass(frozen=True)
class RegionSeed:
    code: str
    name: str
    kind: str
    sort_order: int = 0


@dataclass(frozen=True)
class VillageSeed:
    code: str
    name: str
    quota: int
    sort_order: int


@dataclass(frozen=True)
class PhaseSeed:
    kind: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class UnitSeed:
    name: str
    kind: str
    sort_order: int


@dataclass(frozen=True)
class CampaignSeed:
    name: str
    values: dict[str, Any]  # CAMPAIGN_FIELDS -> value
    phases: tuple[PhaseSeed, ...]
    quota_total: int


@dataclass(frozen=True)
class Seed:
    chain: tuple[RegionSeed, ...]  # province, city, county, town
    villages: tuple[VillageSeed, ...]
    campaign: CampaignSeed
    units: tuple[UnitSeed, ...]

    @property
    def town(self) -> RegionSeed:
        return self.chain[-1]


MEASURE_WORDS = {"村走访任务": "条", "问卷": "份"}


@dataclass
class SeedResult:
    """What `seed_load` did: counts of created rows, and the values it overwrote (`update`)."""

    town: Region
    campaign: Campaign
    created: dict[str, int] = field(default_factory=dict)
    updated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or bool(self.updated)

    def summary(self) -> list[str]:
        """Lines for the command's output, in Chinese."""
        villages = self.campaign.quotas.count()
        total = sum(self.campaign.quotas.values_list("quota", flat=True))
        where = f"{self.town.name}（{villages} 个村，走访任务数合计 {total:,} 户）"
        if not self.changed:
            return [f"无变化：种子数据已全部在库，{where}。"]
        lines = [f"已载入种子数据：{where}。"]
        made = "、".join(
            f"{label} {n} {MEASURE_WORDS.get(label, '个')}"
            for label, n in self.created.items()
            if n
        )
        if made:
            lines.append(f"新建：{made}。")
        lines.extend(f"已更新：{line}" for line in self.updated)
        return lines


# ---------------------------------------------------------------------------------------------
# Reading the seed file


def _get(table: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table.get(key)
    # bool is an int and a TOML datetime is a date: neither is what the seed means.
    if (
        not isinstance(value, kind)
        or (isinstance(value, bool) and kind is not bool)
        or (isinstance(value, dt.datetime) and kind is dt.date)
    ):
        raise SeedError(f"种子文件格式不对：{where}.{key} 缺失或类型不对")
    return value


def seed_read(path: Path = SEED_FILE) -> Seed:
    """Parse and check a seed file; raises SeedError with a Chinese message."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SeedError(f"找不到种子文件 {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"种子文件 {path} 不是合法的 TOML：{exc}") from exc

    chain = []
    for key, kind in CHAIN:
        table = _get(data, key, dict, "")
        chain.append(
            RegionSeed(
                code=_get(table, "code", str, key), name=_get(table, "name", str, key), kind=kind
            )
        )
    for parent, child in itertools.pairwise(chain):
        if not child.code.startswith(parent.code):
            raise SeedError(
                f"种子文件有误：{child.name} 的代码 {child.code} 不在 {parent.code} 之下"
            )

    villages = []
    for index, table in enumerate(_get(data, "villages", list, ""), start=1):
        where = f"villages[{index}]"
        village = VillageSeed(
            code=_get(table, "code", str, where),
            name=_get(table, "name", str, where),
            quota=_get(table, "quota", int, where),
            sort_order=index,
        )
        if len(village.code) != 12 or not village.code.startswith(chain[-1].code):
            raise SeedError(
                f"种子文件有误：{village.name} 的代码 {village.code} 应为 {chain[-1].code} 开头的 12 位"
            )
        if village.quota < 0:
            raise SeedError(f"种子文件有误：{village.name} 的走访任务数不能为负")
        villages.append(village)
    for attr in ("code", "name"):
        seen = [getattr(v, attr) for v in villages]
        if len(set(seen)) != len(seen):
            raise SeedError(f"种子文件有误：村的{'代码' if attr == 'code' else '名称'}有重复")

    table = _get(data, "campaign", dict, "")
    values: dict[str, Any] = {
        "start_date": _get(table, "start_date", dt.date, "campaign"),
        "end_date": _get(table, "end_date", dt.date, "campaign"),
        "notice_date": _get(table, "notice_date", dt.date, "campaign"),
        "deadline_basis": _get(table, "deadline_basis", str, "campaign"),
        "general_days": _get(table, "general_days", int, "campaign"),
        "complex_days": _get(table, "complex_days", int, "campaign"),
        "return_days": _get(table, "return_days", int, "campaign"),
    }
    if values["deadline_basis"] not in Campaign.DeadlineBasis.values:
        raise SeedError(f"种子文件有误：未知的办理时限计算方式“{values['deadline_basis']}”")
    phases = []
    for index, phase in enumerate(_get(table, "phases", list, "campaign"), start=1):
        where = f"campaign.phases[{index}]"
        kind = _get(phase, "kind", str, where)
        if kind not in Phase.Kind.values:
            raise SeedError(f"种子文件有误：未知的阶段“{kind}”")
        phases.append(
            PhaseSeed(
                kind=kind,
                start_date=_get(phase, "start_date", dt.date, where),
                end_date=_get(phase, "end_date", dt.date, where),
            )
        )
    campaign = CampaignSeed(
        name=_get(table, "name", str, "campaign"),
        values=values,
        phases=tuple(phases),
        quota_total=_get(table, "quota_total", int, "campaign"),
    )
    quota_sum = sum(v.quota for v in villages)
    if quota_sum != campaign.quota_total:
        raise SeedError(
            f"种子文件有误：各村走访任务数之和为 {quota_sum}，与总任务数 {campaign.quota_total} 不符"
        )

    units = []
    for index, unit in enumerate(data.get("units", []), start=1):
        where = f"units[{index}]"
        kind = _get(unit, "kind", str, where)
        if kind not in Unit.Kind.values:
            raise SeedError(f"种子文件有误：未知的单位类型“{kind}”")
        units.append(UnitSeed(name=_get(unit, "name", str, where), kind=kind, sort_order=index))

    return Seed(chain=tuple(chain), villages=tuple(villages), campaign=campaign, units=tuple(units))


# ---------------------------------------------------------------------------------------------
# Comparing the seed with the database (reads only)


def _place(region: Region) -> str:
    """The full name from the province down, e.g. 安徽省亳州市涡阳县汝集镇."""
    codes = [code for code in region.path.strip("/").split("/") if code]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return "".join(names.get(code, "") for code in codes)


def _seed_place(seed: Seed, upto: int) -> str:
    return "".join(node.name for node in seed.chain[: upto + 1])


def _display(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _campaign_diffs(campaign: Campaign, seed: CampaignSeed) -> list[tuple[str, Any, Any]]:
    """(field, database value, seed value) for every campaign field that differs."""
    return [
        (name, getattr(campaign, name), value)
        for name, value in seed.values.items()
        if getattr(campaign, name) != value
    ]


def _label(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def _seed_conflicts(seed: Seed) -> list[str]:
    """Identity conflicts: places in the database that are not the seed's places."""
    problems: list[str] = []
    town = seed.town
    for other in Region.objects.filter(kind=Region.Kind.TOWN, name=town.name).exclude(
        code=town.code
    ):
        problems.append(
            f"库中已有另一个“{town.name}”：{_place(other)}（区划代码 {other.code}），"
            f"而种子数据中的是 {_seed_place(seed, len(seed.chain) - 1)}（区划代码 {town.code}），"
            "两者不是同一个镇"
        )

    nodes: list[tuple[RegionSeed | VillageSeed, str | None, str, int]] = [
        (node, seed.chain[i - 1].code if i else None, node.kind, i)
        for i, node in enumerate(seed.chain)
    ]
    nodes += [(v, town.code, Region.Kind.VILLAGE, len(seed.chain)) for v in seed.villages]
    existing = {
        r.code: r
        for r in Region.objects.filter(code__in=[n.code for n, *_ in nodes]).select_related(
            "parent"
        )
    }
    for node, parent_code, kind, depth in nodes:
        found = existing.get(node.code)
        parent = existing.get(parent_code) if parent_code else None
        wanted = (
            f"{_seed_place(seed, depth)}"
            if depth < len(seed.chain)
            else f"{_seed_place(seed, depth - 1)}{node.name}"
        )
        if found is not None:
            found_parent = found.parent.code if found.parent else None
            if (found.name, found.kind, found_parent) != (node.name, kind, parent_code):
                problems.append(
                    f"区划代码 {node.code} 在库中是 {_place(found)}"
                    f"（{found.get_kind_display()}），种子数据中是 {wanted}"
                )
            continue
        if parent is None or node is town:
            # A missing parent has no children yet; a clashing town is reported above.
            continue
        clash = Region.objects.filter(parent=parent, name=node.name).first()
        if clash is not None:
            problems.append(
                f"{_place(parent)}下已有“{node.name}”（区划代码 {clash.code}），"
                f"与种子数据中的代码 {node.code} 不一致"
            )
    return problems


@dataclass(frozen=True)
class Difference:
    """One value in both the database and the seed that differs: what, and the two values."""

    subject: str
    old: str
    new: str

    def as_conflict(self) -> str:
        return f"{self.subject}：库中为 {self.old}，种子数据为 {self.new}"

    def as_update(self) -> str:
        return f"{self.subject}：{self.old} → {self.new}"


def _seed_differences(seed: Seed) -> list[Difference]:
    """Values present in both the database and the seed that differ (quotas, dates, …)."""
    town = Region.objects.filter(code=seed.town.code).first()
    if town is None:
        return []
    diffs: list[Difference] = []
    unit_kinds = {u.name: u.kind for u in seed.units}
    for unit in Unit.objects.filter(region=town, name__in=unit_kinds):
        if unit.kind != unit_kinds[unit.name]:
            diffs.append(
                Difference(
                    f"责任单位“{unit.name}”的类型",
                    unit.get_kind_display(),
                    Unit.Kind(unit_kinds[unit.name]).label,
                )
            )
    campaign = Campaign.objects.filter(town=town, name=seed.campaign.name).first()
    if campaign is None:
        return diffs
    for name, old, new in _campaign_diffs(campaign, seed.campaign):
        diffs.append(Difference(f"活动的{_label(Campaign, name)}", _display(old), _display(new)))
    phases = {p.kind: p for p in campaign.phases.all()}
    for wanted in seed.campaign.phases:
        phase = phases.get(wanted.kind)
        if phase is not None and (phase.start_date, phase.end_date) != (
            wanted.start_date,
            wanted.end_date,
        ):
            diffs.append(
                Difference(
                    phase.get_kind_display(),
                    f"{phase.start_date}～{phase.end_date}",
                    f"{wanted.start_date}～{wanted.end_date}",
                )
            )
    quotas = {
        q.village.code: q
        for q in VillageQuota.objects.filter(campaign=campaign).select_related("village")
    }
    for village in seed.villages:
        quota = quotas.get(village.code)
        if quota is not None and quota.quota != village.quota:
            diffs.append(
                Difference(f"{village.name}走访任务数", str(quota.quota), str(village.quota))
            )
    return diffs


# ---------------------------------------------------------------------------------------------
# Loading


@transaction.atomic
def seed_load(*, update: bool = False, path: Path | None = None) -> SeedResult:
    """Load the seed town, its villages, campaign, phases, quotas and units. Idempotent.

    Checks everything first and raises SeedError without writing anything on a conflict, or
    on a value that differs from the seed unless `update` is set (then the seed wins).
    """
    seed = seed_read(path or SEED_FILE)
    conflicts = _seed_conflicts(seed)
    if conflicts:
        raise SeedError("种子数据与库中已有数据冲突，未做任何修改：", conflicts)
    differences = _seed_differences(seed)
    if differences and not update:
        raise SeedError(
            "库中数据与种子数据不一致（可能已由镇综治中心修改），未做任何修改；"
            "如确认以种子数据为准，请加 --update 重新运行：",
            [d.as_conflict() for d in differences],
        )

    created = dict.fromkeys(("区划", "活动", "阶段", "村走访任务", "责任单位", "问卷"), 0)
    questionnaire, made = questionnaire_load_default()
    created["问卷"] += made
    parent: Region | None = None
    for node in seed.chain:
        parent, made = region_ensure(code=node.code, name=node.name, kind=node.kind, parent=parent)
        created["区划"] += made
    town = parent
    if town is None:  # pragma: no cover - seed_read always returns the whole chain
        raise SeedError("种子文件没有镇")
    villages: dict[str, Region] = {}
    for v in seed.villages:
        villages[v.code], made = region_ensure(
            code=v.code,
            name=v.name,
            kind=Region.Kind.VILLAGE,
            parent=town,
            sort_order=v.sort_order,
        )
        created["区划"] += made

    for unit in seed.units:
        existing = Unit.objects.filter(region=town, name=unit.name).first()
        if existing is None:
            Unit.objects.create(
                region=town, name=unit.name, kind=unit.kind, sort_order=unit.sort_order
            )
            created["责任单位"] += 1
        elif existing.kind != unit.kind:
            existing.kind = unit.kind
            existing.save(update_fields=["kind"])

    campaign = Campaign.objects.filter(town=town, name=seed.campaign.name).first()
    if campaign is None:
        campaign = Campaign.objects.create(
            town=town, name=seed.campaign.name, questionnaire=questionnaire, **seed.campaign.values
        )
        created["活动"] += 1
    else:
        diffs = _campaign_diffs(campaign, seed.campaign)
        if diffs:
            for name, _old, new in diffs:
                setattr(campaign, name, new)
            campaign.save(update_fields=[name for name, *_ in diffs])
    if campaign.questionnaire_id is None:
        campaign.questionnaire = questionnaire
        campaign.save(update_fields=["questionnaire"])
        created["问卷"] += not made  # the default existed but this campaign had none

    phases = {p.kind: p for p in campaign.phases.all()}
    for wanted in seed.campaign.phases:
        phase = phases.get(wanted.kind)
        if phase is None:
            Phase.objects.create(
                campaign=campaign,
                kind=wanted.kind,
                start_date=wanted.start_date,
                end_date=wanted.end_date,
            )
            created["阶段"] += 1
        elif (phase.start_date, phase.end_date) != (wanted.start_date, wanted.end_date):
            phase.start_date, phase.end_date = wanted.start_date, wanted.end_date
            phase.save(update_fields=["start_date", "end_date"])

    quotas = {q.village_id: q for q in VillageQuota.objects.filter(campaign=campaign)}
    for v in seed.villages:
        village = villages[v.code]
        quota = quotas.get(village.pk)
        if quota is None:
            VillageQuota.objects.create(campaign=campaign, village=village, quota=v.quota)
            created["村走访任务"] += 1
        elif quota.quota != v.quota:
            quota.quota = v.quota
            quota.save(update_fields=["quota"])

    updated = [d.as_update() for d in differences]
    return SeedResult(town=town, campaign=campaign, created=created, updated=updated)


# ---------------------------------------------------------------------------------------------
# 分片包干: splitting a village's households among its cadres, by hand or in proportion
#
# Every write below takes the village's Region row with select_for_update first: one village,
# one writer at a time, so two admins allocating at once cannot interleave (on SQLite the
# database lock does the same). Assignments are never updated in place except to end them,
# and never deleted: each change ends the current row and starts a new one.


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
    for start in range(0, len(pks), 500):
        Assignment.objects.filter(pk__in=pks[start : start + 500]).update(
            ended_at=now, updated_at=now
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


# ---------------------------------------------------------------------------------------------
# 宣传资料: leaflets the town center issues to a village (its governance director collects them)

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
