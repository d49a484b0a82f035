"""`generate_data`: the whole run, town by town, each town in its own transaction."""

import contextlib
import datetime as dt
import functools
import importlib
import multiprocessing
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.db import connection, connections, transaction

from pingan.accounts.models import Person, Role, User
from pingan.campaigns.models import Assignment, LeafletIssue, Phase, VillageQuota
from pingan.campaigns.services.seed import seed_load, seed_read
from pingan.core.bulk import insert_objects
from pingan.demo.generate import store
from pingan.demo.generate.activity import (
    VISIT_COLUMNS,
    CadreSlice,
    QuestionInfo,
    TownVisits,
    VillageWork,
    visiting_days,
)
from pingan.demo.generate.people import TownPeople, town_people
from pingan.demo.generate.places import PlannedTown, plan_places
from pingan.demo.generate.problems import (
    ALERT_COLUMNS,
    EVENT_COLUMNS,
    MANUAL_SHARE,
    PROBLEM_COLUMNS,
    LedgerBuilder,
    LedgerContext,
    UnitInfo,
    manual_seeds,
)
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent, ProblemSerial
from pingan.regions.models import Household
from pingan.surveys.answers import QuestionnaireIndex
from pingan.surveys.models import Questionnaire
from pingan.visits.models import Answer, Visit

SCALES = ("town", "county", "city")
SCALE_LABELS = {"town": "镇（汝集镇）", "county": "县（利辛县）", "city": "市（亳州市）"}
DEFAULT_DAY = dt.date(2021, 11, 10)
# Below this many households the roster is sealed in this process (no pool to start).
POOL_THRESHOLD = 40_000
# Rosters ready ahead of the writer at most (each is one town's sealed households).
AHEAD = 2

HOUSEHOLD_COLUMNS = (
    "id", "created_at", "updated_at", "village_id", "group_no", "address", "head_name",
    "size", "tags", "lat", "lng", "status", "merged_into_id", "synthetic", "phone_ciphertext",
    "phone_digest", "phone_masked", "id_number_ciphertext", "id_number_digest",
    "id_number_masked",
)  # fmt: skip
ASSIGNMENT_COLUMNS = ("created_at", "updated_at", "campaign_id", "household_id", "cadre_id",
                      "started_at", "ended_at", "locked", "source", "assigned_by_id", "note")  # fmt: skip
ANSWER_COLUMNS = ("visit_id", "question_id", "option_id", "text", "number", "answer_ms")


class GenerateRefused(Exception):
    """The run cannot start; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class GenerateOptions:
    scale: str = "town"
    seed: int = 2021
    visits_ratio: float = 0.75
    problems_ratio: float = 0.1
    day: dt.date = DEFAULT_DAY
    answers: str = "rates"  # or "all"
    replace: bool = False
    households: int | None = None  # scale every roster to about this many (tests)
    workers: int | None = None  # sealing processes; None: by size, 0: in this process


@dataclass
class GenerateReport:
    towns: int = 0
    villages: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    deleted: dict[str, int] = field(default_factory=dict)
    total_seconds: float = 0.0
    database_size: str = ""


class _Timer:
    def __init__(self, report: GenerateReport) -> None:
        self.report = report

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.report.seconds[phase] += time.perf_counter() - started


def _check(options: GenerateOptions) -> None:
    if options.scale not in SCALES:
        raise GenerateRefused(f"规模只能是 {'、'.join(SCALES)} 之一")
    if not 0 <= options.visits_ratio <= 1.5:
        raise GenerateRefused("走访比例（--visits-ratio）应在 0 到 1.5 之间")
    if not 0 <= options.problems_ratio <= 1:
        raise GenerateRefused("问题比例（--problems-ratio）应在 0 到 1 之间")
    if options.answers not in ("rates", "all"):
        raise GenerateRefused("答案范围（--answers）只能是 rates 或 all")
    seed = seed_read()
    start = seed.campaign.values["start_date"]
    end = seed.campaign.values["end_date"]
    if not start <= options.day <= end:
        raise GenerateRefused(f"截止日期（--day）应在活动期间 {start} 至 {end} 之内")


def _people_stream(towns: list[PlannedTown], seed: int, workers: int) -> Iterator[TownPeople]:
    """Each town's sealed roster, in order; with workers, built ahead in a process pool."""
    build = functools.partial(town_people, seed=seed)
    if workers <= 0:
        yield from map(build, towns)
        return
    # The children must not share this process's database connection.
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque = deque()
        queue = iter(towns)
        for town in queue:
            pending.append(pool.apply_async(build, (town,)))
            if len(pending) > AHEAD + workers - 1:
                break
        while pending:
            result = pending.popleft().get()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.apply_async(build, (nxt,)))
            yield result


def generate_data(options: GenerateOptions, echo: Callable[[str], None] = print) -> GenerateReport:
    """Generate the synthetic data of `options.scale`; see the package docstring."""
    _check(options)
    report = GenerateReport()
    timer = _Timer(report)
    started = time.perf_counter()
    with timer("准备区划、活动、账号"):
        seed_result = seed_load()
        questionnaire = seed_result.campaign.questionnaire or Questionnaire.objects.get(
            code="default", version=1
        )
        seed = seed_read()
        towns = plan_places(
            scale=options.scale,
            seed=options.seed,
            seed_town_code=seed.town.code,
            seed_villages=[(v.code, v.name, v.quota) for v in seed.villages],
            households=options.households,
        )
        with transaction.atomic():
            setups = store.ensure_towns(towns, questionnaire.pk)
    existing = store.existing_data(setups)
    if existing.any:
        found = (f"{existing.households:,} 户、{existing.cadres:,} 名走访干部、"
                 f"{existing.visits:,} 条走访、{existing.problems:,} 件问题")  # fmt: skip
        if existing.real_households or existing.real_cadres:
            raise GenerateRefused(
                f"目标范围内已有真实名册（{existing.real_households:,} 户、"
                f"{existing.real_cadres:,} 名干部不是合成数据），不生成，也不能替换。"
            )
        if not options.replace:
            raise GenerateRefused(
                f"目标范围内已有数据（{found}），未生成任何数据。"
                "如确认删除这些合成数据后重新生成，请加 --replace。"
            )
        with timer("删除旧数据"), transaction.atomic():
            report.deleted = store.replace_delete(setups)
        echo("已删除旧的合成数据：" + "、".join(f"{k} {v:,}" for k, v in report.deleted.items()))

    total = sum(t.households for t in towns)
    workers = options.workers
    if workers is None:
        workers = 2 if total >= POOL_THRESHOLD else 0
    if connection.in_atomic_block:
        workers = 0  # a caller's transaction (tests): no fork, one connection
    phase = Phase.objects.filter(campaign=setups[0].campaign, kind=Phase.Kind.VISITING).first()
    first_day = phase.start_date if phase else dt.date(2021, 10, 16)
    last_day = min(options.day, phase.end_date if phase else options.day)
    cutoff = store.moment(options.day, 23, 59) + dt.timedelta(seconds=59)
    echo(
        f"生成规模：{SCALE_LABELS[options.scale]}，{len(towns)} 个乡镇（街道）、"
        f"{sum(len(t.villages) for t in towns):,} 个村（社区），约 {total:,} 户；随机种子 "
        f"{options.seed}；走访 {first_day:%m-%d} 至 {last_day:%m-%d}，数据截至 {options.day}；"
        f"加密进程 {workers or '无（本进程）'}。"
    )
    days = visiting_days(first_day, last_day)
    first_received: dict[int, dt.datetime] = {}
    questionnaires: dict[int, _Questions] = {}
    people_stream = _people_stream(towns, options.seed, workers)
    for n, (plan, setup) in enumerate(zip(towns, setups, strict=True), start=1):
        town_started = time.perf_counter()
        with timer("住户与干部（生成、校验、加密）"):
            people = next(people_stream)
        used = setup.campaign.questionnaire_id or questionnaire.pk
        if used not in questionnaires:
            questionnaires[used] = _Questions(Questionnaire.objects.get(pk=used))
        with transaction.atomic():
            counts = _write_town(plan, setup, people, options, timer, days, cutoff,
                                 questionnaires[used])  # fmt: skip
        moment = counts.pop("first_received", None)
        if moment is not None:
            first_received[used] = min(moment, first_received.get(used, moment))
        for key, value in counts.items():
            report.counts[key] += value
        report.towns += 1
        report.villages += len(plan.villages)
        echo(
            f"[{n}/{len(towns)}] {plan.county_name}{plan.name}：{len(plan.villages)} 个村，"
            f"{counts['住户']:,} 户，{counts['党员干部']:,} 名干部，{counts['走访']:,} 条走访"
            f"（答案 {counts['答案']:,} 条），{counts['问题']:,} 件问题"
            f"——用时 {time.perf_counter() - town_started:.1f} 秒"
        )
    for used, moment in first_received.items():
        # Used now: frozen, as the first synced visit freezes it (surveys.services).
        Questionnaire.objects.filter(pk=used, frozen_at__isnull=True).update(frozen_at=moment)
    with timer("更新统计信息（ANALYZE）"):
        store.analyze()
    report.total_seconds = time.perf_counter() - started
    report.database_size = store.database_size()
    return report


class _Questions:
    """One questionnaire version's questions and options, as the generators need them."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        index = QuestionnaireIndex(questionnaire)
        self.id = questionnaire.pk
        self.by_key = {
            key: QuestionInfo(q.pk, q.text, q.category,
                              {label: (o.pk, o.category) for label, o in index.options[q.pk].items()})
            for key, q in index.questions.items()
        }  # fmt: skip
        self.keys = {q.pk: key for key, q in index.questions.items()}


def _concerns_from_ledger(*, campaign_ids: list[int]) -> None:
    """The ledger migration's conversion (ledger 0006), run on the problems just written."""
    migration = importlib.import_module("pingan.ledger.migrations.0006_concerns_from_the_ledger")
    migration.forward(django_apps, None, campaign_ids=campaign_ids)


def _write_town(plan: PlannedTown, setup: store.TownSetup, people: TownPeople,
                options: GenerateOptions, timer: _Timer, days: list[dt.date],
                cutoff: dt.datetime, questions: "_Questions") -> dict:  # fmt: skip
    rng = random.Random(f"pingan-generate-town:{options.seed}:{plan.code}")  # noqa: S311
    counts: dict = defaultdict(int)
    campaign = setup.campaign
    roster_day = store.moment(dt.date(2021, 10, 13), 10)
    with timer("写入住户"):
        ids = store.reserve_ids(Household, len(people.households))
        village_ids = [v.pk for v in setup.villages]
        counts["住户"] = store.insert(
            Household,
            HOUSEHOLD_COLUMNS,
            (
                (pk, roster_day, roster_day, village_ids[h.village], h.group_no, h.address,
                 h.head_name, h.size, h.tags, h.lat, h.lng, "active", None, True, *h.phone,
                 *h.id_number)
                for pk, h in zip(ids, people.households, strict=True)
            ),
        )  # fmt: skip
    with timer("写入干部、账号与分片包干"):
        units = [u for u in setup.units if u.kind in ("governance", "town_office", "justice")]
        users = [
            User(username=c.username, role=Role.CADRE, region_id=village_ids[c.village],
                 full_name=c.name, password=store.UNUSABLE, is_active=True,
                 date_joined=roster_day)
            for c in people.cadres
        ]  # fmt: skip
        insert_objects(users)
        persons = [
            Person(
                user_id=user.pk, name=c.name, party_member=c.party_member,
                home_village_id=None if c.unit_slot is not None else village_ids[c.village],
                home_unit_id=units[c.unit_slot % len(units)].pk if c.unit_slot is not None else None,
                visit_village_id=village_ids[c.village], active=True, synthetic=True,
                phone_ciphertext=c.phone[0], phone_digest=c.phone[1], phone_masked=c.phone[2],
                created_at=roster_day, updated_at=roster_day,
            )
            for c, user in zip(people.cadres, users, strict=True)
        ]  # fmt: skip
        insert_objects(persons)
        counts["党员干部"] = len(persons)
        # 分片包干: each village's households, in village order, in equal runs per cadre.
        by_village: dict[int, list[int]] = defaultdict(list)
        for i, h in enumerate(people.households):
            by_village[h.village].append(i)
        cadres_of: dict[int, list[int]] = defaultdict(list)
        for i, cadre in enumerate(people.cadres):
            cadres_of[cadre.village].append(i)
        assigned = store.moment(dt.date(2021, 10, 14), 16)
        works: list[VillageWork] = []
        assignment_rows: list[tuple] = []
        for v_index, village in enumerate(setup.villages):
            members = by_village.get(v_index, [])
            mine = cadres_of.get(v_index, [])
            slices = []
            for k, n_cadre in enumerate(mine):
                lo, hi = k * len(members) // len(mine), (k + 1) * len(members) // len(mine)
                person_id = persons[n_cadre].pk
                slices.append(CadreSlice(person_id, users[n_cadre].pk, list(range(lo, hi))))
                assignment_rows.extend(
                    (assigned, assigned, campaign.pk, ids[members[j]], person_id, assigned,
                     None, False, "allocation", setup.center.pk, "")
                    for j in range(lo, hi)
                )  # fmt: skip
            works.append(
                VillageWork(
                    village.pk,
                    [ids[i] for i in members],
                    [(people.households[i].lat, people.households[i].lng) for i in members],
                    slices,
                    setup.village_admins[v_index].pk,
                )
            )
        store.insert(Assignment, ASSIGNMENT_COLUMNS, assignment_rows)
        if not plan.seed:
            VillageQuota.objects.filter(campaign=campaign).delete()
            VillageQuota.objects.bulk_create(
                VillageQuota(campaign=campaign, village=village, quota=v.quota)
                for village, v in zip(setup.villages, plan.villages, strict=True)
            )
        else:
            have = set(VillageQuota.objects.filter(campaign=campaign).values_list("village_id",
                                                                                  flat=True))  # fmt: skip
            VillageQuota.objects.bulk_create(
                VillageQuota(campaign=campaign, village=village, quota=v.quota)
                for village, v in zip(setup.villages, plan.villages, strict=True)
                if village.pk not in have
            )
    with timer("生成并写入走访与答案"):
        generator = TownVisits(rng=rng, campaign_id=campaign.pk,
                               questionnaire_id=questions.id,
                               questions=questions.by_key, answers=options.answers,
                               problems_ratio=options.problems_ratio, cutoff=cutoff)  # fmt: skip
        target = round(options.visits_ratio * len(people.households))
        activity = generator.run(works, days, target)
        visit_ids = store.reserve_ids(Visit, len(activity.visits))
        for pk, row in zip(visit_ids, activity.visits, strict=True):
            row[0] = pk
        store.insert(Visit, VISIT_COLUMNS, activity.visits)
        counts["答案"] = store.insert(
            Answer,
            ANSWER_COLUMNS,
            ((visit_ids[v], q, o, "", None, ms) for v, q, o, ms in activity.answers),
        )
        if activity.vacant:
            Household.objects.filter(pk__in=activity.vacant).update(status="vacant")
        counts["走访"] = len(activity.visits)
        counts["问卷"] = activity.questionnaires
        if activity.visits:
            counts["first_received"] = min(row[16] for row in activity.visits)
    with timer("生成并写入问题台账"):
        serial, _ = ProblemSerial.objects.get_or_create(town=setup.town, year=2021)
        serial = ProblemSerial.objects.select_for_update().get(pk=serial.pk)
        household_cadre = [
            (w.village_id, w.household_ids[j], s.person_id) for w in works for s in w.cadres
            for j in s.households
        ]  # fmt: skip
        manual = manual_seeds(
            count=round(MANUAL_SHARE * options.problems_ratio * len(activity.visits)),
            rng=rng,
            days=days,
            households=household_cadre,
            center_user_id=setup.center.pk,
        )
        ctx = LedgerContext(
            campaign=campaign,
            town_code=setup.town.code,
            first_serial=serial.last + 1,
            units=[UnitInfo(u.pk, u.name, u.kind, setup.handlers[u.pk].pk) for u in setup.units],
            center_user_id=setup.center.pk,
            leader_user_id=setup.leader.pk,
            question_keys=questions.keys,
            cutoff=cutoff,
        )
        ledger = LedgerBuilder(ctx, rng).build(activity.problems + manual, visit_ids)
        problem_ids = store.reserve_ids(Problem, len(ledger.problems))
        for pk, row in zip(problem_ids, ledger.problems, strict=True):
            row[0] = pk
        store.insert(Problem, PROBLEM_COLUMNS, ledger.problems)
        store.insert(ProblemEvent, EVENT_COLUMNS,
                     ([problem_ids[e[0]], *e[1:]] for e in ledger.events))  # fmt: skip
        store.insert(ProblemAlert, ALERT_COLUMNS,
                     ([problem_ids[a[0]], *a[1:]] for a in ledger.alerts))  # fmt: skip
        if ledger.problems:
            serial.last = ledger.last_serial
            serial.save(update_fields=["last"])
        # each problem's visit becomes its concern (立案) and its household a reporting one,
        # exactly as the migration does for a ledger kept before concerns existed
        _concerns_from_ledger(campaign_ids=[campaign.pk])
        counts["问题"] = len(ledger.problems)
        counts["问题流转记录"] = len(ledger.events)
    with timer("宣传资料发放"):
        directors = {c.village: c.name for c in reversed(people.cadres) if c.unit_slot is None}
        counts["宣传资料发放"] = _leaflets(setup, plan, rng, cutoff, directors)
    return counts


def _leaflets(setup: store.TownSetup, plan: PlannedTown, rng: random.Random,
              cutoff: dt.datetime, directors: dict[int, str]) -> int:  # fmt: skip
    """Each village's governance director collects leaflets at the town center: most during
    mobilization, the rest during the visits."""
    rows = []
    for v_index, (village, v) in enumerate(zip(setup.villages, plan.villages, strict=True)):
        first = round(v.households * rng.uniform(0.6, 0.8))
        at = store.moment(dt.date(2021, 10, rng.randint(13, 15)), rng.randint(9, 16),
                          rng.randrange(60))  # fmt: skip
        rows.append(LeafletIssue(campaign=setup.campaign, village=village, quantity=max(1, first),
                                 collected_by=directors.get(v_index, ""),
                                 issued_by=setup.center, issued_at=at))  # fmt: skip
        second_at = store.moment(dt.date(2021, 10, 16) + dt.timedelta(days=rng.randint(6, 16)),
                                 rng.randint(9, 16), rng.randrange(60))  # fmt: skip
        if second_at <= cutoff:
            rest = max(1, round(v.households * rng.uniform(1.02, 1.1)) - first)
            rows.append(LeafletIssue(campaign=setup.campaign, village=village, quantity=rest,
                                     collected_by=rows[-1].collected_by, issued_by=setup.center,
                                     issued_at=second_at))  # fmt: skip
    LeafletIssue.objects.bulk_create(rows)
    return len(rows)
