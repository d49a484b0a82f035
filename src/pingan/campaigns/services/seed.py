"""Loading the seed town (区划, 活动, 阶段, 任务数, 责任单位, 类别, 派单规则) from its TOML file.

`seed_load` reads a TOML seed file (by default the notice's town, `seed/rujizhen.toml`),
compares it with the database, and only then writes, all in one transaction:

- anything missing is created;
- anything present and equal is left alone (no save, so `updated_at` does not move);
- a value that differs (a quota the town center edited, a phase date…) is an error unless
  `update=True`, because silently overwriting the town's own edits would be worse;
- a conflict of identity (another town with the seed town's name, a code that belongs to a
  different place) is always an error. Errors are collected first and nothing is written.

The starting categories (问题类别) and routing rules (派单规则) are different: they are the
town center's to edit, rename, reorder and deactivate, so there is nothing to compare them
with. The seed gives them once, to a town that has no category yet (the rules in the same
step, each only if its category and unit are there); a town with categories is left alone,
with or without `update`, whatever it did with them.
"""

import datetime as dt
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction

from pingan.accounts.models import Unit
from pingan.campaigns.models import (
    Campaign,
    Phase,
    ProblemCategory,
    RoutingRule,
    VillageQuota,
)
from pingan.regions.models import Region
from pingan.regions.services import region_ensure
from pingan.surveys.services import questionnaire_load_default

SEED_FILE = Path(__file__).resolve().parent.parent / "seed" / "rujizhen.toml"

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
class RuleSeed:
    keywords: str
    category: str
    unit: str  # a seed unit's name
    priority: int


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
    categories: tuple[str, ...] = ()
    rules: tuple[RuleSeed, ...] = ()

    @property
    def town(self) -> RegionSeed:
        return self.chain[-1]


MEASURE_WORDS = {"村走访任务": "条", "问卷": "份", "派单规则": "条"}


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

    categories = _categories_read(data)
    rules = _rules_read(data, categories=categories, units={unit.name for unit in units})
    return Seed(
        chain=tuple(chain),
        villages=tuple(villages),
        campaign=campaign,
        units=tuple(units),
        categories=categories,
        rules=rules,
    )


def _categories_read(data: dict) -> tuple[str, ...]:
    names = []
    for index, table in enumerate(data.get("categories", []), start=1):
        name = _get(table, "name", str, f"categories[{index}]").strip()
        if not name or len(name) > 40:
            raise SeedError(f"种子文件有误：第 {index} 个类别的名称应为 1 到 40 字")
        if name in names:
            raise SeedError(f"种子文件有误：类别“{name}”重复")
        names.append(name)
    return tuple(names)


def _rules_read(
    data: dict, *, categories: tuple[str, ...], units: set[str]
) -> tuple[RuleSeed, ...]:
    rules = []
    for index, table in enumerate(data.get("routing_rules", []), start=1):
        where = f"routing_rules[{index}]"
        rule = RuleSeed(
            keywords=_get(table, "keywords", str, where).strip(),
            category=_get(table, "category", str, where),
            unit=_get(table, "unit", str, where),
            priority=_get(table, "priority", int, where),
        )
        if not rule.keywords or len(rule.keywords) > 500:
            raise SeedError(f"种子文件有误：第 {index} 条派单规则的关键词应为 1 到 500 字")
        if rule.category not in categories:
            raise SeedError(
                f"种子文件有误：第 {index} 条派单规则的类别“{rule.category}”不在类别表中"
            )
        if rule.unit not in units:
            raise SeedError(f"种子文件有误：第 {index} 条派单规则的单位“{rule.unit}”不在责任单位中")
        if not 1 <= rule.priority <= 999:
            raise SeedError(f"种子文件有误：第 {index} 条派单规则的优先级应在 1 到 999 之间")
        rules.append(rule)
    return tuple(rules)


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

    created = dict.fromkeys(
        ("区划", "活动", "阶段", "村走访任务", "责任单位", "问题类别", "派单规则", "问卷"), 0
    )
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
    created["问题类别"], created["派单规则"] = _categories_give(seed, town)

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


def _categories_give(seed: Seed, town: Region) -> tuple[int, int]:
    """The seed's categories and routing rules, to a town that has no category yet (see the
    module docstring); (categories, rules) created. A rule whose unit the town no longer has
    is left out."""
    if ProblemCategory.objects.filter(town=town).exists():
        return 0, 0
    ProblemCategory.objects.bulk_create(
        ProblemCategory(town=town, name=name, sort_order=position)
        for position, name in enumerate(seed.categories, start=1)
    )
    units = {
        unit.name: unit
        for unit in Unit.objects.filter(
            region=town, active=True, name__in={rule.unit for rule in seed.rules}
        )
    }
    rules = [
        RoutingRule(
            town=town,
            keywords=rule.keywords,
            category=rule.category,
            unit=units[rule.unit],
            priority=rule.priority,
        )
        for rule in seed.rules
        if rule.unit in units
    ]
    RoutingRule.objects.bulk_create(rules)
    return len(seed.categories), len(rules)
