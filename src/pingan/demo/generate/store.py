"""Database side of `generate_data`: the tree, units, campaigns and logins it needs (ensured,
so a rerun finds them), id reservation and bulk inserts, the check for existing data, the
scoped delete of `--replace`, and ANALYZE.

Rows go in with `pingan.core.bulk.insert_rows` (COPY on PostgreSQL, multi-row INSERTs on
SQLite). Primary keys are reserved first (`reserve_ids`) so visits, problems and events can
point at their parents without reading anything back.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from pingan.accounts.models import Person, Role, Unit, User
from pingan.campaigns.models import Assignment, Campaign, LeafletIssue, Phase, VillageQuota
from pingan.campaigns.services.seed import seed_read
from pingan.core.bulk import insert_objects, insert_rows
from pingan.core.clock import SHANGHAI
from pingan.demo.generate.places import PlannedTown
from pingan.ledger.models import (
    Problem,
    ProblemAlert,
    ProblemConcern,
    ProblemEvent,
    ProblemReporter,
)
from pingan.regions.models import Household, Region
from pingan.regions.services import region_ensure
from pingan.visits.models import Answer, Concern, ConcernItem, ThoughtWork, Visit

# Units a town other than the seed town starts with, as the seed lists 汝集镇's: a name
# pattern ({stem}: the town's name without 镇/乡/街道; {town}: the full name) and a kind.
TOWN_UNITS = (
    ("{level}综治中心", Unit.Kind.GOVERNANCE), ("{stem}派出所", Unit.Kind.POLICE),
    ("{stem}司法所", Unit.Kind.JUSTICE), ("党政办公室", Unit.Kind.TOWN_OFFICE),
    ("财政所", Unit.Kind.TOWN_OFFICE), ("农业综合服务中心", Unit.Kind.TOWN_OFFICE),
    ("自然资源和规划所", Unit.Kind.TOWN_OFFICE), ("市场监督管理所", Unit.Kind.TOWN_OFFICE),
    ("{town}卫生院", Unit.Kind.TOWN_OFFICE), ("{town}中心学校", Unit.Kind.TOWN_OFFICE),
    ("{stem}供电所", Unit.Kind.TOWN_OFFICE), ("应急管理办公室", Unit.Kind.TOWN_OFFICE),
    ("民政办公室", Unit.Kind.TOWN_OFFICE), ("社会事务办公室", Unit.Kind.TOWN_OFFICE),
    ("信访办公室", Unit.Kind.TOWN_OFFICE), ("退役军人服务站", Unit.Kind.TOWN_OFFICE),
)  # fmt: skip
# Generated logins have unusable passwords: a town admin sets real ones.
UNUSABLE = "!pingan-generated"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` new primary keys for `model`: from its sequence on PostgreSQL; on SQLite the
    ones after the highest used (the caller's transaction holds SQLite's write lock)."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608 - model table
        top = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(top, row[0] if row else 0) + 1
    return list(range(first, first + n))


_ADAPTED = (models.DateTimeField, models.DateField, models.UUIDField, models.DecimalField)


def insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]],
           chunk: int = 50_000) -> int:  # fmt: skip
    """Insert plain rows (values as psycopg takes them; JSON already as text), in chunks.
    On SQLite, dates, UUIDs and decimals are converted the way Django stores them there."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    adapters = []
    if not is_postgres():
        for name in columns:
            field = fields[name]
            adapters.append(
                (lambda v, f=field: f.get_db_prep_save(v, connection))
                if isinstance(field, _ADAPTED)
                else None
            )
    count = 0
    batch: list[Sequence[Any]] = []
    for row in rows:
        if adapters:
            row = [a(v) if a and v is not None else v for a, v in zip(adapters, row, strict=True)]
        batch.append(row)
        if len(batch) >= chunk:
            insert_rows(model, columns, batch)
            count += len(batch)
            batch = []
    insert_rows(model, columns, batch)
    return count + len(batch)


# --- the tree, units, campaigns, logins ---------------------------------------------------


@dataclass
class TownSetup:
    """What the database holds for one planned town once it is ensured."""

    town: Region
    villages: list[Region]  # in the plan's order
    campaign: Campaign
    units: list[Unit]
    center: User
    leader: User
    handlers: dict[int, User]  # unit id -> handler
    village_admins: list[User]  # in the villages' order


def _stem(name: str) -> tuple[str, str]:
    for level in ("街道", "镇", "乡"):
        if name.endswith(level):
            return name.removesuffix(level), level
    return name, "镇"


def _user(username: str, role: str, region: Region, full_name: str,
          unit: Unit | None = None) -> User:  # fmt: skip
    return User(username=username, role=role, region=region, unit=unit, full_name=full_name,
                password=UNUSABLE, is_active=True)  # fmt: skip


def _ensure_users(wanted: list[User]) -> dict[str, User]:
    """The users by username, created when missing (an existing one is kept as it is)."""
    existing = {
        u.username: u for u in User.objects.filter(username__in=[u.username for u in wanted])
    }
    missing = [u for u in wanted if u.username not in existing]
    insert_objects(missing)
    return {**existing, **{u.username: u for u in missing}}


def ensure_towns(towns: list[PlannedTown], questionnaire_id: int) -> list[TownSetup]:
    """Counties, towns, villages, units, campaigns with phases, and the logins events name.
    The seed town and its chain come from `seed_load` (called before)."""
    seed = seed_read()
    city = Region.objects.get(code=seed.chain[1].code)
    counties: dict[str, Region] = {}
    setups: list[TownSetup] = []
    for town_plan in towns:
        county = counties.get(town_plan.county_code)
        if county is None:
            county, _ = region_ensure(code=town_plan.county_code, name=town_plan.county_name,
                                      kind=Region.Kind.COUNTY, parent=city)  # fmt: skip
            counties[town_plan.county_code] = county
        town, _ = region_ensure(code=town_plan.code, name=town_plan.name, kind=Region.Kind.TOWN,
                                parent=county, sort_order=town_plan.index_in_county)  # fmt: skip
        existing = {r.code: r for r in Region.objects.filter(parent=town)}
        villages = []
        for v in town_plan.villages:
            region = existing.get(v.code)
            if region is None:
                region, _ = region_ensure(code=v.code, name=v.name, kind=Region.Kind.VILLAGE,
                                          parent=town, sort_order=v.sort_order + 1)  # fmt: skip
            villages.append(region)
        units = _ensure_units(town, seed_town=town_plan.seed)
        campaign = _ensure_campaign(town, seed, questionnaire_id)
        wanted = [
            _user(f"{town.code}-center", Role.TOWN_ADMIN, town, f"{town.name}综治中心"),
            _user(f"{town.code}-leader", Role.LEADER, town, f"{town.name}领导小组"),
            *(_user(f"{town.code}-unit{n:02d}", Role.UNIT_HANDLER, town, unit.name, unit)
              for n, unit in enumerate(units, start=1)),
            *(_user(f"{v.code}-admin", Role.VILLAGE_ADMIN, v, f"{v.name}管理员")
              for v in villages),
        ]  # fmt: skip
        users = _ensure_users(wanted)
        setups.append(
            TownSetup(
                town=town,
                villages=villages,
                campaign=campaign,
                units=units,
                center=users[f"{town.code}-center"],
                leader=users[f"{town.code}-leader"],
                handlers={
                    u.pk: users[f"{town.code}-unit{n:02d}"] for n, u in enumerate(units, start=1)
                },
                village_admins=[users[f"{v.code}-admin"] for v in villages],
            )
        )
    return setups


def _ensure_units(town: Region, *, seed_town: bool) -> list[Unit]:
    if not seed_town:
        stem, level = _stem(town.name)
        have = set(Unit.objects.filter(region=town).values_list("name", flat=True))
        Unit.objects.bulk_create(
            Unit(region=town, name=name, kind=kind, sort_order=n)
            for n, (pattern, kind) in enumerate(TOWN_UNITS, start=1)
            if (name := pattern.format(stem=stem, town=town.name, level=level)) not in have
        )
    return list(Unit.objects.filter(region=town, active=True).order_by("sort_order", "pk"))


def _ensure_campaign(town: Region, seed: Any, questionnaire_id: int) -> Campaign:
    campaign = Campaign.objects.filter(town=town).order_by("-start_date", "-id").first()
    if campaign is None:
        campaign = Campaign.objects.create(
            town=town,
            name=f"{town.name}基层党员干部“千家万户访平安”活动",
            questionnaire_id=questionnaire_id,
            **seed.campaign.values,
        )
    if campaign.questionnaire_id is None:
        campaign.questionnaire_id = questionnaire_id
        campaign.save(update_fields=["questionnaire"])
    have = set(campaign.phases.values_list("kind", flat=True))
    Phase.objects.bulk_create(
        Phase(campaign=campaign, kind=p.kind, start_date=p.start_date, end_date=p.end_date)
        for p in seed.campaign.phases
        if p.kind not in have
    )
    return campaign


# --- existing data, and --replace ---------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    households: int
    real_households: int
    cadres: int
    real_cadres: int
    visits: int
    problems: int

    @property
    def any(self) -> bool:
        return bool(self.households or self.cadres or self.visits or self.problems)


def existing_data(setups: list[TownSetup]) -> Existing:
    villages = [v.pk for s in setups for v in s.villages]
    campaigns = [s.campaign.pk for s in setups]
    households = Household.objects.filter(village_id__in=villages)
    cadres = Person.objects.filter(visit_village_id__in=villages)
    return Existing(
        households=households.count(),
        real_households=households.filter(synthetic=False).count(),
        cadres=cadres.count(),
        real_cadres=cadres.filter(synthetic=False).count(),
        visits=Visit.objects.filter(campaign_id__in=campaigns).count(),
        problems=Problem.objects.filter(campaign_id__in=campaigns).count(),
    )


def _delete(queryset: models.QuerySet) -> int:
    """DELETE the rows of `queryset` in one statement (no objects loaded, no signals)."""
    model = queryset.model
    inner, params = queryset.order_by().values("pk").query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if is_postgres():
            # Materialized first: the subquery may read the table being deleted from.
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({inner})", params)  # noqa: S608
        else:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT * FROM ({inner}))",  # noqa: S608
                params,
            )
        return cursor.rowcount


def replace_delete(setups: list[TownSetup]) -> dict[str, int]:
    """Delete the towns' generated (synthetic) data, children first. Regions, units,
    campaigns, the seed town's quotas and the problem serials stay (codes are never reused)."""
    villages = [v.pk for s in setups for v in s.villages]
    campaigns = [s.campaign.pk for s in setups]
    # The generated cadres' logins go with them (unusable passwords: nobody else's); the
    # generated staff logins stay, like the units and campaigns they belong to.
    cadre_logins = User.objects.filter(
        region_id__in=villages, role=Role.CADRE, password=UNUSABLE, person__isnull=True
    )
    counts = {
        "问题督办记录": _delete(ProblemAlert.objects.filter(problem__campaign_id__in=campaigns)),
        "反映户": _delete(ProblemReporter.objects.filter(problem__campaign_id__in=campaigns)),
        "并案记录": _delete(ProblemConcern.objects.filter(problem__campaign_id__in=campaigns)),
        "思想工作": _delete(ThoughtWork.objects.filter(concern__campaign_id__in=campaigns)),
        "反映事项": _delete(ConcernItem.objects.filter(concern__campaign_id__in=campaigns)),
        "问题流转记录": _delete(ProblemEvent.objects.filter(problem__campaign_id__in=campaigns)),
        "问题": _delete(Problem.objects.filter(campaign_id__in=campaigns)),
        "群众反映": _delete(Concern.objects.filter(campaign_id__in=campaigns)),
        "答案": _delete(Answer.objects.filter(visit__campaign_id__in=campaigns)),
        "走访": _delete(Visit.objects.filter(campaign_id__in=campaigns)),
        "宣传资料发放": _delete(LeafletIssue.objects.filter(campaign_id__in=campaigns)),
        "分片包干": _delete(Assignment.objects.filter(campaign_id__in=campaigns)),
    }
    counts["党员干部"] = _delete(Person.objects.filter(visit_village_id__in=villages))
    counts["住户"] = _delete(Household.objects.filter(village_id__in=villages))
    counts["干部账号"] = cadre_logins.delete()[1].get("accounts.User", 0)
    return counts


def analyze() -> None:
    """Fresh planner statistics for the tables just filled (PostgreSQL; SQLite: ANALYZE)."""
    tables = [m._meta.db_table for m in (Household, Person, User, Assignment, Visit, Answer,
                                         Problem, ProblemEvent, ProblemAlert, LeafletIssue,
                                         VillageQuota, Region)]  # fmt: skip
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
        else:
            cursor.execute("ANALYZE")


def database_size() -> str:
    if not is_postgres():
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return str(cursor.fetchone()[0])


def moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
