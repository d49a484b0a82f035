"""`pingan generate_data` at a tiny scale: the structure and the invariants of what it writes,
and the plan at full scale (pure, no database)."""

import io
import itertools
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, F

from pingan.accounts.models import Person, Role, User
from pingan.campaigns.models import Assignment, Campaign, LeafletIssue, VillageQuota
from pingan.core import crypto
from pingan.core.pii import ID_NUMBER, PHONE, normalize_id_number, normalize_phone
from pingan.demo.generate.people import town_people
from pingan.demo.generate.places import plan_places
from pingan.ledger.lifecycle import TRANSITIONS
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent, ProblemSerial
from pingan.regions.models import Household, Region
from pingan.visits.models import Answer, Concern, Visit

SEED_VILLAGES = [(f"341623101{200 + n:03d}", f"测试{n}村", 500) for n in range(1, 17)]
ACTIONS = {"report", "tick_remind", "supervise", "criticize"} | {t.action for t in TRANSITIONS}


def _generate(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_data", "--scale", "town", *args, stdout=out)
    return out.getvalue()


GENERATE = ("--households", "900", "--problems-ratio", "0.5", "--answers", "all")


@pytest.fixture(scope="module")
def _generated_once(django_db_setup, django_db_blocker) -> Iterator[str]:
    """One small town for the whole module (rolled back at the end): many problems, so that
    every state of the ledger occurs, and the whole questionnaire."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _generate(*GENERATE)
        transaction.set_rollback(True)


@pytest.fixture
def generated(_generated_once, db) -> str:
    return _generated_once


def test_households_are_valid_and_sealed(generated):
    households = Household.objects.filter(village__parent__code="341623101")
    assert 800 < households.count() < 1000
    assert "完成" in generated
    assert "用时合计" in generated
    digests = set()
    for h in households.select_related("village"):
        assert h.synthetic
        assert h.group_no
        assert h.address.startswith(("汝集镇", h.village.name))
        assert h.head_name
        id_number = crypto.decrypt(h.id_number_ciphertext)
        assert normalize_id_number(id_number) == id_number
        assert h.id_number_digest == crypto.lookup_hash(ID_NUMBER, id_number)
        assert re.fullmatch(r"341\*{11}[\dX]{4}", h.id_number_masked)
        assert h.id_number_masked[-4:] == id_number[-4:]
        digests.add(h.id_number_digest)
        if h.phone_ciphertext:
            phone = crypto.decrypt(h.phone_ciphertext)
            assert normalize_phone(phone) == phone
            assert re.fullmatch(r"1\d{2}\*{4}\d{4}", h.phone_masked)
            assert h.phone_masked == phone[:3] + "****" + phone[-4:]
            assert h.phone_digest == crypto.lookup_hash(PHONE, phone)
    assert len(digests) == households.count()
    phones = households.exclude(phone_digest="").values("phone_digest")
    assert phones.distinct().count() == phones.count()


def test_every_household_is_assigned_to_a_cadre_of_its_village(generated):
    campaign = Campaign.objects.get(town__code="341623101")
    assignments = Assignment.objects.filter(campaign=campaign, ended_at__isnull=True)
    assert assignments.count() == Household.objects.filter(village__parent=campaign.town).count()
    assert not assignments.exclude(cadre__visit_village=F("household__village")).exists()
    people = Person.objects.filter(visit_village__parent=campaign.town)
    assert people.filter(synthetic=True, user__role=Role.CADRE).count() == people.count()
    assert people.filter(home_unit__isnull=False).exists()
    for person in people:
        phone = crypto.decrypt(person.phone_ciphertext)
        assert person.user.username == phone
        assert normalize_phone(phone) == phone
    quotas = VillageQuota.objects.filter(campaign=campaign)
    assert quotas.count() == 16
    assert sum(q.quota for q in quotas) == 11267
    assert LeafletIssue.objects.filter(campaign=campaign).values("village").distinct().count() == 16


def test_visits_belong_to_assigned_households(generated):
    campaign = Campaign.objects.get(town__code="341623101")
    visits = Visit.objects.filter(campaign=campaign).select_related("household", "cadre")
    assert (
        0.6
        < visits.count() / Household.objects.filter(village__parent__code="341623101").count()
        < 0.9
    )
    held = dict(
        Assignment.objects.filter(campaign=campaign, ended_at__isnull=True).values_list(
            "household_id", "cadre_id"
        )
    )
    outcomes = Counter()
    for visit in visits:
        outcomes[visit.outcome] += 1
        assert held[visit.household_id] == visit.cadre_id
        assert visit.village_id == visit.household.village_id
        assert visit.submitted_by_id == visit.cadre.user_id
        assert visit.counts == (visit.outcome in Visit.COUNTING)
        assert (visit.questionnaire_id is not None) == (visit.outcome in ("completed", "phone"))
        assert visit.started_at <= visit.ended_at
        assert visit.ended_at <= visit.received_at
    assert set(outcomes) == {"completed", "phone", "refused", "not_home", "vacant"}
    answered = Answer.objects.filter(visit__campaign=campaign)
    assert not answered.filter(visit__questionnaire__isnull=True).exists()
    # --answers all: the whole questionnaire, one row per option chosen
    per_visit = answered.values("visit").annotate(n=Count("pk")).values_list("n", flat=True)
    assert min(per_visit) >= 14
    vacant = Household.objects.filter(village__parent=campaign.town, status="vacant")
    assert vacant.exists()
    assert not vacant.exclude(visits__vacancy_confirmed_at__isnull=False).exists()


def test_problems_in_every_state_with_their_history(generated):
    town = Region.objects.get(code="341623101")
    problems = Problem.objects.filter(campaign__town=town)
    assert set(problems.values_list("status", flat=True)) == set(Problem.Status.values)
    assert set(problems.values_list("source", flat=True)) == set(Problem.Source.values)
    codes = list(problems.values_list("code", flat=True))
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"341623101-2021-\d{6}", c) for c in codes)
    serial = ProblemSerial.objects.get(town=town, year=2021)
    assert serial.last == max(int(c.rsplit("-", 1)[1]) for c in codes)
    survey = problems.filter(source="survey")
    assert not survey.filter(visit__isnull=True).exists()
    assert not survey.exclude(option__polarity="-").exists()
    assert not problems.exclude(source="manual").exclude(household=F("visit__household")).exists()
    events = {}
    for event in ProblemEvent.objects.filter(problem__in=problems).order_by("at", "id"):
        events.setdefault(event.problem_id, []).append(event)
        assert event.action in ACTIONS
    for problem in problems:
        history = events[problem.pk]
        assert history[0].action == "report"
        assert history[0].at == problem.reported_at
        moved = [e for e in history if e.action not in ("report", "tick_remind", "supervise",
                                                         "criticize")]  # fmt: skip
        assert problem.version == 1 + len(moved)
        assert history[-1].at <= problem.updated_at or history[-1].action != "report"
        states = [e for e in history if e.from_status != e.to_status or e.action == "report"]
        assert states[-1].to_status == problem.status
        for before, after in itertools.pairwise(states):
            assert after.from_status == before.to_status
        if problem.status == "dispatched":
            assert problem.deadline > problem.dispatched_at
            assert problem.unit_id
            assert history[-1].at <= problem.deadline or problem.supervised_at
    assert problems.filter(status="dispatched", redo_count__gt=0).exists()
    assert ProblemAlert.objects.filter(problem__in=problems, kind="remind").exists()
    # Each problem has its reporting household and the concern it was filed from (立案).
    assert not problems.annotate(n=Count("reporters")).exclude(n=1).exists()
    assert not problems.annotate(n=Count("concern_links")).exclude(n=1).exists()
    # an open problem waits for its household's verdict; a closed or rejected one for none
    assert not problems.filter(status__in=("closed", "rejected")).exclude(
        reporters_waiting=0).exists()  # fmt: skip
    assert not problems.exclude(status__in=("closed", "rejected")).exclude(
        reporters_waiting=1).exists()  # fmt: skip
    visit_concerns = Concern.objects.filter(campaign__town=town, source="visit")
    assert visit_concerns.filter(outcome="file").count() == (
        problems.exclude(source="manual").values("visit_id").distinct().count()
    )


def test_rerun_is_refused_then_replaced_cleanly(generated):
    before = Problem.objects.count(), Household.objects.count(), Visit.objects.count()
    last = ProblemSerial.objects.get(town__code="341623101").last
    with pytest.raises(CommandError, match=r"已有数据.*--replace"):
        _generate(*GENERATE)
    assert (Problem.objects.count(), Household.objects.count(), Visit.objects.count()) == before
    output = _generate(*GENERATE, "--replace")
    assert "已删除旧的合成数据" in output
    assert (Problem.objects.count(), Household.objects.count(), Visit.objects.count()) == before
    # Codes are never reused: the new ledger continues the town's serial.
    first = Problem.objects.order_by("code").values_list("code", flat=True)[0]
    assert int(first.rsplit("-", 1)[1]) == last + 1
    cadres = User.objects.filter(role=Role.CADRE, region__parent__code="341623101")
    assert cadres.count() == Person.objects.filter(visit_village__parent__code="341623101").count()


def test_real_rosters_are_never_replaced(generated):
    Household.objects.filter(pk=Household.objects.first().pk).update(synthetic=False)
    with pytest.raises(CommandError, match="真实名册"):
        _generate(*GENERATE, "--replace")


def test_city_plan_is_the_real_tree_at_full_size():
    towns = plan_places(scale="city", seed=2021, seed_town_code="341623101",
                        seed_villages=SEED_VILLAGES)  # fmt: skip
    assert {t.county_name for t in towns} == {"谯城区", "涡阳县", "蒙城县", "利辛县"}
    assert 1_900_000 < sum(t.households for t in towns) < 2_000_000
    villages = [v for t in towns for v in t.villages]
    assert len({v.code for v in villages}) == len(villages)
    assert all(len(v.code) == 12 and v.code.startswith(t.code) for t in towns for v in t.villages)
    assert all(len({v.name for v in t.villages}) == len(t.villages) for t in towns)
    assert all(0.85 * v.households - 1 <= v.quota <= v.households for t in towns
               for v in t.villages if not t.seed)  # fmt: skip
    county = [t for t in towns if t.county_code == "341623"]
    assert len(county) == 23
    assert 380_000 < sum(t.households for t in county) < 420_000
    rujizhen = next(t for t in county if t.name == "汝集镇")
    assert rujizhen.code == "341623101"
    # A town is the same at every scale (its own random stream and block of numbers).
    alone = plan_places(scale="town", seed=2021, seed_town_code="341623101",
                        seed_villages=SEED_VILLAGES)[0]  # fmt: skip
    assert alone == rujizhen


def test_people_of_a_town_have_unique_valid_numbers():
    town = plan_places(scale="town", seed=7, seed_town_code="341623101",
                       seed_villages=SEED_VILLAGES)[0]  # fmt: skip
    people = town_people(town, seed=7, seal=False)
    ids = [h.id_number[0] for h in people.households]
    phones = [h.phone[0] for h in people.households if h.phone[0]] + [
        c.phone[0] for c in people.cadres
    ]
    assert len(set(ids)) == len(ids) == town.households
    assert len(set(phones)) == len(phones)
    assert all(normalize_id_number(n) == n for n in ids[:2000])
    assert all(normalize_phone(p) == p for p in phones[:2000])
