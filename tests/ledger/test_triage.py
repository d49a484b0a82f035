"""Triage (每日梳理汇总): what the town center decides about each concern, one at a time or many
at once (`ledger.triage`), and the visit from issue 12 taken from the phone to its outcome.

The expectations are written from the module docstrings (`ledger/triage.py`,
`ledger/routing.py`) and DESIGN §4, not read back from the code.
"""

import datetime as dt

import pytest
import time_machine
from django.http import Http404

from pingan.accounts.models import Notification, Role, Unit
from pingan.campaigns.models import ProblemCategory, RoutingRule
from pingan.core import clock
from pingan.ledger.lifecycle import ActionInvalid, LedgerError, StaleVersion
from pingan.ledger.models import Problem, ProblemConcern, ProblemReporter
from pingan.ledger.routing import TownIndex, suggest
from pingan.ledger.services import problem_report
from pingan.ledger.triage import BATCH_LIMIT, Decision, concern_triage, concerns_triage
from pingan.surveys.answers import AnswerIn
from pingan.visits.concerns import concern_report
from pingan.visits.models import Concern, ThoughtWork
from pingan.visits.services import ProblemIn, visit_sync
from tests.conftest import changed_tables, database_snapshot
from tests.factories import UnitFactory, make_campaign, make_user, visit_in

SHANGHAI = clock.SHANGHAI
# A Friday morning in the visiting phase: the town center's daily triage.
MORNING = dt.datetime(2021, 10, 22, 9, 30, tzinfo=SHANGHAI)
# 10 working days after Friday 22 October 2021 (no holiday in between): Friday 5 November.
GENERAL_DEADLINE = dt.datetime(2021, 11, 5, 23, 59, 59, tzinfo=SHANGHAI)
CODE = "341623101-2021-{:06d}"

FILE, MERGE, TALK, DECLINE = "file", "merge", "talk", "decline"


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield MORNING


@pytest.fixture
def town_admin(world):
    return world.users[Role.TOWN_ADMIN]


def phone_concern(world, field, *, text="村东头有人聚众赌博", household=None) -> Concern:
    """A phone call (来电) the town center registers for one of the field cadre's households."""
    return concern_report(
        actor=world.users[Role.TOWN_ADMIN],
        household_id=(household or field.households[0]).pk,
        text=text,
    )


def visit_concern(world, field, *, household=None, answers=None, problems=(), opinion=""):
    """The concern a cadre's synced visit brought in (None when it brought in nothing)."""
    item = visit_in(
        household or field.households[0],
        field.questionnaire,
        answers=answers or (AnswerIn("safety", ("安全",)), AnswerIn("police", ("满意",))),
        problems=tuple(problems),
        opinion=opinion,
    )
    [result] = visit_sync(actor=world.users[Role.CADRE], items=[item])
    assert result.status == "created", result.errors
    return Concern.objects.get(pk=result.concern_id) if result.concern_id else None


def feelings_only(world, field, household=None) -> Concern:
    """不太安全 with no reason given: nothing concrete to fix."""
    return visit_concern(
        world, field, household=household,
        answers=(AnswerIn("safety", ("不太安全",)), AnswerIn("police", ("满意",))),
    )  # fmt: skip


def decide(actor, concern: Concern, outcome: str, **kw):
    concern.refresh_from_db()
    return concern_triage(
        actor=actor, decision=Decision(concern.pk, concern.version, outcome, **kw)
    )


def other_town_concern(world) -> Concern:
    """A call registered in 义门镇 by its own town center."""
    make_campaign(world.other_town, {world.faraway: 300})
    admin = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    return concern_report(actor=admin, village_id=world.faraway.pk, text="远方村路口积水")


def other_town_problem(world) -> Problem:
    """A problem of 义门镇, registered the old way by its town center."""
    make_campaign(world.other_town, {world.faraway: 300})
    admin = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    return problem_report(
        actor=admin, village_id=world.faraway.pk, household_id=None, description="远方村积水"
    )


def open_state(concern: Concern) -> tuple:
    concern.refresh_from_db()
    return (concern.outcome, concern.decided_by_id, concern.decided_at, concern.version)


# --- 立案 ------------------------------------------------------------------------------------


def test_filing_makes_one_accepted_problem_from_the_concerns_matters(
    world, field, morning, town_admin
):
    concern = phone_concern(world, field, text="村东头有人聚众赌博，晚上吵得睡不着")

    result = decide(town_admin, concern, FILE, category="治安")

    problem = Problem.objects.get()
    assert (result.status, result.http_status, result.outcome) == ("done", 200, FILE)
    assert (result.problem_id, result.problem_code) == (problem.pk, CODE.format(1))
    assert result.thought_work_id is None  # no feeling: nothing to talk about
    assert (problem.code, problem.status, problem.category, problem.description) == (
        CODE.format(1), "accepted", "治安", "村东头有人聚众赌博，晚上吵得睡不着",
    )  # fmt: skip
    assert (problem.household, problem.village, problem.cadre, problem.source) == (
        field.households[0], world.qiying, field.cadre, "manual",
    )  # fmt: skip
    assert (problem.unit, problem.deadline, problem.dispatched_at) == (None, None, None)
    assert problem.reported_at == MORNING
    # linked to its concern, with its one reporting household waiting for the result
    assert list(ProblemConcern.objects.values_list("problem_id", "concern_id")) == [
        (problem.pk, concern.pk)
    ]
    [reporter] = ProblemReporter.objects.all()
    assert (reporter.problem, reporter.household, reporter.concern, reporter.cadre) == (
        problem, field.households[0], concern, field.cadre,
    )  # fmt: skip
    assert (reporter.verdict, reporter.tries, reporter.village) == ("", 0, world.qiying)
    assert problem.reporters_waiting == 1
    assert list(problem.events.values_list("action", "from_status", "to_status", "actor")) == [
        ("file", "", "accepted", town_admin.pk)
    ]
    # the concern says who decided and when
    concern.refresh_from_db()
    assert (concern.outcome, concern.decided_by, concern.decided_at, concern.version) == (
        FILE, town_admin, MORNING, 2,
    )  # fmt: skip
    assert clock.local(concern.decided_at).tzinfo == SHANGHAI
    assert clock.local(concern.decided_at).strftime("%Y-%m-%d %H:%M") == "2021-10-22 09:30"
    assert ThoughtWork.objects.count() == 0


def test_filing_with_a_unit_and_a_type_dispatches_in_the_same_step(
    world, field, morning, town_admin
):
    concern = phone_concern(world, field)

    result = decide(town_admin, concern, FILE, category="治安", unit_id=world.police.pk,
                    severity="general")  # fmt: skip

    problem = Problem.objects.get()
    assert (result.status, result.problem_id) == ("done", problem.pk)
    assert (problem.status, problem.unit, problem.severity) == (
        "dispatched", world.police, "general",
    )  # fmt: skip
    assert (problem.dispatched_at, problem.deadline) == (MORNING, GENERAL_DEADLINE)
    assert list(problem.events.values_list("action", "from_status", "to_status")) == [
        ("file", "", "accepted"),
        ("dispatch", "accepted", "dispatched"),
    ]
    assert problem.reporters_waiting == 1


@pytest.mark.parametrize(
    ("dispatch", "field_name"),
    [
        ({"unit_id": None, "severity": "general"}, "unit_id"),
        ({"unit_id": "police", "severity": ""}, "severity"),
        ({"unit_id": "police", "severity": "urgent"}, "severity"),
        ({"unit_id": "elsewhere", "severity": "general"}, "unit_id"),
    ],
)
def test_filing_with_an_incomplete_dispatch_writes_nothing(
    world, field, morning, town_admin, dispatch, field_name
):
    """立案并交办 is one step: when the dispatch is refused, so is the filing (no problem, no
    code used up, the concern still open)."""
    units = {
        None: None,
        "police": world.police.pk,
        "elsewhere": UnitFactory(region=world.other_town, name="义门派出所").pk,
    }
    concern = phone_concern(world, field)
    before = database_snapshot()
    decision = Decision(concern.pk, 1, FILE, unit_id=units[dispatch["unit_id"]],
                        severity=dispatch["severity"])  # fmt: skip

    with pytest.raises(ActionInvalid) as refused:
        concern_triage(actor=town_admin, decision=decision)
    [answer] = concerns_triage(actor=town_admin, decisions=[decision])

    assert (refused.value.status, refused.value.field) == (422, field_name)
    assert (answer.status, answer.http_status, answer.field) == ("refused", 422, field_name)
    assert changed_tables(before, database_snapshot()) == []


def test_filing_codes_count_on_per_town_and_year(world, field, morning, town_admin):
    first = phone_concern(world, field, text="赌博")
    second = phone_concern(world, field, text="偷电动车", household=field.households[1])
    decide(town_admin, first, FILE)
    decide(town_admin, second, FILE)
    assert sorted(Problem.objects.values_list("code", flat=True)) == [CODE.format(1),
                                                                      CODE.format(2)]  # fmt: skip


def test_filing_a_concern_with_matters_and_feelings_also_opens_a_talk(
    world, field, morning, town_admin, django_capture_on_commit_callbacks
):
    """The module docstring: a concern with matters *and* feelings also gets a 思想工作 case,
    so no answer is left without a follow-up."""
    concern = visit_concern(
        world, field,
        answers=(AnswerIn("safety", ("不太安全",)), AnswerIn("nearby", ("赌博",)),
                 AnswerIn("police", ("满意",))),
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        result = decide(town_admin, concern, FILE, category="治安")

    problem = Problem.objects.get()
    assert problem.description == "赌博"  # the matter, not the feeling
    assert problem.source == "survey"  # only questionnaire answers
    work = ThoughtWork.objects.get()
    assert result.thought_work_id == work.pk
    assert (work.concern, work.cadre, work.household, work.village) == (
        concern, field.cadre, field.households[0], world.qiying,
    )  # fmt: skip
    assert Notification.objects.filter(
        recipient=world.users[Role.CADRE], kind="thought_work", link=f"/field/talks/{work.pk}/"
    ).exists()


# --- 并案 ------------------------------------------------------------------------------------


def test_merging_adds_the_household_as_one_more_reporter(world, field, morning, town_admin):
    first = phone_concern(world, field, text="村东头有人聚众赌博")
    filed = decide(town_admin, first, FILE, category="治安")
    second = phone_concern(world, field, text="东头天天有人打牌赌钱", household=field.households[1])
    before = Problem.objects.get().version

    result = decide(town_admin, second, MERGE, problem_id=filed.problem_id)

    problem = Problem.objects.get()
    assert (result.status, result.outcome, result.problem_id, result.problem_code) == (
        "done", MERGE, problem.pk, problem.code,
    )  # fmt: skip
    assert (problem.status, problem.reporters_waiting, problem.version) == (
        "accepted", 2, before + 1,
    )  # fmt: skip
    assert list(problem.reporters.values_list("household", "concern")) == [
        (field.households[0].pk, first.pk),
        (field.households[1].pk, second.pk),
    ]
    assert set(ProblemConcern.objects.values_list("concern_id", flat=True)) == {
        first.pk, second.pk,
    }  # fmt: skip
    merge = problem.events.get(action="merge")
    assert (merge.from_status, merge.to_status, merge.actor, merge.at) == (
        "accepted", "accepted", town_admin, MORNING,
    )  # fmt: skip
    assert merge.data == {"concern_id": second.pk, "household_id": field.households[1].pk,
                          "added": True}  # fmt: skip
    second.refresh_from_db()
    assert (second.outcome, second.decided_by, second.decided_at, second.version) == (
        MERGE, town_admin, MORNING, 2,
    )  # fmt: skip


def test_merging_a_household_that_already_reports_it_adds_no_second_wait(
    world, field, morning, town_admin
):
    first = phone_concern(world, field, text="村东头有人聚众赌博")
    filed = decide(town_admin, first, FILE)
    again = phone_concern(world, field, text="又来反映赌博的事")  # the same household

    decide(town_admin, again, MERGE, problem_id=filed.problem_id)

    problem = Problem.objects.get()
    assert (problem.reporters.count(), problem.reporters_waiting) == (1, 1)
    assert problem.events.get(action="merge").data["added"] is False
    assert ProblemConcern.objects.filter(problem=problem).count() == 2


@pytest.mark.parametrize("state", ["closed", "rejected"])
def test_merging_into_a_closed_or_rejected_problem_is_refused(
    world, field, ledger, morning, town_admin, state
):
    target = ledger.make(state)
    concern = phone_concern(world, field)
    before = database_snapshot()

    with pytest.raises(ActionInvalid) as refused:
        decide(town_admin, concern, MERGE, problem_id=target.pk)

    assert (refused.value.status, refused.value.field) == (422, "problem_id")
    assert "不能并案" in refused.value.message
    assert changed_tables(before, database_snapshot()) == []


def test_merging_into_a_problem_of_another_town_is_refused_as_unknown(
    world, field, morning, town_admin
):
    """The town center does not see 义门镇's problems: 422 on the field, as if it did not
    exist (the concern itself is theirs, so the whole decision is not a 404)."""
    elsewhere = other_town_problem(world)
    concern = phone_concern(world, field)
    before = database_snapshot()

    with pytest.raises(ActionInvalid) as refused:
        decide(town_admin, concern, MERGE, problem_id=elsewhere.pk)

    assert (refused.value.status, refused.value.field) == (422, "problem_id")
    assert refused.value.message == "要并入的问题不存在或不在您的管辖范围内"
    assert changed_tables(before, database_snapshot()) == []


def test_merging_needs_the_problem_to_join(world, field, morning, town_admin):
    concern = phone_concern(world, field)
    before = database_snapshot()
    with pytest.raises(ActionInvalid) as refused:
        decide(town_admin, concern, MERGE)
    assert (refused.value.status, refused.value.field, refused.value.message) == (
        422, "problem_id", "请选择要并入的问题",
    )  # fmt: skip
    assert changed_tables(before, database_snapshot()) == []


# --- 思想工作 and 不予立案 ----------------------------------------------------------------------


def test_a_talk_goes_to_the_visiting_cadre_who_is_notified(
    world, field, morning, town_admin, django_capture_on_commit_callbacks
):
    concern = feelings_only(world, field)

    with django_capture_on_commit_callbacks(execute=True):
        result = decide(town_admin, concern, TALK)

    work = ThoughtWork.objects.get()
    assert (result.status, result.outcome, result.thought_work_id, result.problem_id) == (
        "done", TALK, work.pk, None,
    )  # fmt: skip
    assert (work.concern, work.cadre, work.household, work.village) == (
        concern, field.cadre, field.households[0], world.qiying,
    )  # fmt: skip
    assert (work.talked_on, work.notes, work.view, work.recorded_at) == (None, "", "", None)
    assert Problem.objects.count() == 0
    [notice] = Notification.objects.filter(kind="thought_work")
    assert (notice.recipient, notice.link, notice.title) == (
        world.users[Role.CADRE], f"/field/talks/{work.pk}/", "请做群众思想工作",
    )  # fmt: skip
    assert notice.body.startswith("七营村")
    concern.refresh_from_db()
    assert (concern.outcome, concern.decided_by, concern.decided_at) == (TALK, town_admin, MORNING)


def test_declining_needs_a_reason_and_writes_nothing_without_one(world, field, morning, town_admin):
    concern = phone_concern(world, field, text="想问问低保怎么申请")
    before = database_snapshot()

    for blank in ("", "   "):
        with pytest.raises(ActionInvalid) as refused:
            decide(town_admin, concern, DECLINE, reason=blank)
        assert (refused.value.status, refused.value.field) == (422, "reason")
        assert refused.value.message == "不予立案须写明理由"
    assert changed_tables(before, database_snapshot()) == []

    result = decide(town_admin, concern, DECLINE, reason="  属政策咨询，已当场解答  ")
    assert (result.status, result.outcome, result.problem_id, result.thought_work_id) == (
        "done", DECLINE, None, None,
    )  # fmt: skip
    concern.refresh_from_db()
    assert (concern.outcome, concern.outcome_note, concern.decided_by, concern.version) == (
        DECLINE, "属政策咨询，已当场解答", town_admin, 2,
    )  # fmt: skip
    assert (Problem.objects.count(), ThoughtWork.objects.count()) == (0, 0)


def test_an_unknown_outcome_is_refused(world, field, morning, town_admin):
    concern = phone_concern(world, field)
    with pytest.raises(ActionInvalid) as refused:
        decide(town_admin, concern, "archive")
    assert (refused.value.status, refused.value.field) == (422, "outcome")
    assert open_state(concern) == ("", None, None, 1)


def test_a_triaged_concern_is_not_triaged_again(world, field, morning, town_admin):
    concern = phone_concern(world, field)
    decide(town_admin, concern, DECLINE, reason="重复反映")
    concern.refresh_from_db()
    with pytest.raises(StaleVersion):  # the old version: someone else decided
        concern_triage(actor=town_admin, decision=Decision(concern.pk, 1, FILE))
    # even with the current version, a decided concern stays decided
    with pytest.raises(ActionInvalid) as refused:
        concern_triage(actor=town_admin, decision=Decision(concern.pk, concern.version, FILE))
    assert refused.value.status == 422
    assert Problem.objects.count() == 0


# --- Who may triage ----------------------------------------------------------------------------

NOT_THE_TOWN_CENTER = [Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.LEADER,
                       Role.COUNTY_VIEWER]  # fmt: skip


@pytest.mark.parametrize("role", NOT_THE_TOWN_CENTER)
def test_only_the_town_center_triages(world, field, morning, role):
    concern = phone_concern(world, field)
    before = database_snapshot()
    for outcome, kw in ((FILE, {}), (TALK, {}), (DECLINE, {"reason": "无需处理"})):
        decision = Decision(concern.pk, concern.version, outcome, **kw)
        with pytest.raises(LedgerError) as refused:
            concern_triage(actor=world.users[role], decision=decision)
        assert refused.value.status == 403
        assert refused.value.message == "只有镇综治中心可以梳理群众反映"
        with pytest.raises(LedgerError) as refused_batch:
            concerns_triage(actor=world.users[role], decisions=[decision])
        assert refused_batch.value.status == 403
    assert changed_tables(before, database_snapshot()) == []


def test_a_concern_of_another_town_is_not_found(world, field, morning, town_admin):
    elsewhere = other_town_concern(world)
    before = database_snapshot()
    with pytest.raises(Http404):
        decide(town_admin, elsewhere, DECLINE, reason="无需处理")
    [result] = concerns_triage(
        actor=town_admin, decisions=[Decision(elsewhere.pk, elsewhere.version, TALK)]
    )
    assert (result.status, result.http_status) == ("refused", 404)
    assert changed_tables(before, database_snapshot()) == []


# --- Many at once ---------------------------------------------------------------------------


def test_a_mixed_batch_answers_each_decision_on_its_own(world, field, morning, town_admin):
    good_file = phone_concern(world, field, text="村东头有人聚众赌博")
    stale = phone_concern(world, field, text="路口积水", household=field.households[1])
    elsewhere = other_town_concern(world)
    no_reason = phone_concern(world, field, text="问低保政策", household=field.households[2])
    good_talk = feelings_only(world, field, household=field.households[2])
    refused_concerns = [stale, elsewhere, no_reason]
    before = {c.pk: open_state(c) for c in refused_concerns}

    results = concerns_triage(
        actor=town_admin,
        decisions=[
            Decision(good_file.pk, 1, FILE, category="治安", unit_id=world.police.pk,
                     severity="general"),
            Decision(stale.pk, 7, FILE),
            Decision(elsewhere.pk, 1, DECLINE, reason="不归本镇"),
            Decision(no_reason.pk, 1, DECLINE),
            Decision(good_talk.pk, 1, TALK),
        ],
    )  # fmt: skip

    assert [(r.concern_id, r.status, r.http_status) for r in results] == [
        (good_file.pk, "done", 200),
        (stale.pk, "refused", 409),
        (elsewhere.pk, "refused", 404),
        (no_reason.pk, "refused", 422),
        (good_talk.pk, "done", 200),
    ]
    assert results[3].field == "reason"
    assert all(r.detail for r in results if r.status == "refused")
    assert results[1].as_dict()["status"] == "refused"
    # the good ones are written ...
    problem = Problem.objects.get()
    assert (problem.status, results[0].problem_id) == ("dispatched", problem.pk)
    assert ThoughtWork.objects.get().concern == good_talk
    assert open_state(good_file)[0] == FILE
    assert open_state(good_talk)[0] == TALK
    # ... and the refused ones are exactly as they were
    assert {c.pk: open_state(c) for c in refused_concerns} == before
    assert not ProblemConcern.objects.filter(concern__in=refused_concerns).exists()
    assert not ThoughtWork.objects.filter(concern__in=refused_concerns).exists()


def test_the_same_decision_sent_again_answers_the_first_result(world, field, morning, town_admin):
    """A page that lost the answer sends again with the version it had: `duplicate`, the
    original problem and talk, and nothing new."""
    concern = visit_concern(
        world, field,
        answers=(AnswerIn("safety", ("不安全",)), AnswerIn("nearby", ("赌博",)),
                 AnswerIn("police", ("满意",))),
    )  # fmt: skip
    decision = Decision(concern.pk, 1, FILE, category="治安", unit_id=world.police.pk,
                        severity="general")  # fmt: skip
    [first] = concerns_triage(actor=town_admin, decisions=[decision])
    assert first.status == "done"
    before = database_snapshot()

    [again] = concerns_triage(actor=town_admin, decisions=[decision])
    single = concern_triage(actor=town_admin, decision=decision)

    for answer in (again, single):
        assert (answer.status, answer.http_status) == ("duplicate", 200)
        assert (answer.outcome, answer.problem_id, answer.problem_code, answer.thought_work_id) == (
            first.outcome, first.problem_id, first.problem_code, first.thought_work_id,
        )  # fmt: skip
    assert first.thought_work_id is not None
    assert changed_tables(before, database_snapshot()) == []


def test_a_different_decision_on_the_old_version_is_a_conflict(world, field, morning, town_admin):
    concern = phone_concern(world, field)
    concerns_triage(actor=town_admin, decisions=[Decision(concern.pk, 1, TALK)])
    before = database_snapshot()

    [result] = concerns_triage(
        actor=town_admin, decisions=[Decision(concern.pk, 1, DECLINE, reason="无需处理")]
    )
    assert (result.status, result.http_status) == ("refused", 409)
    assert "已被他人处理" in result.detail
    assert "思想工作" in result.detail
    with pytest.raises(StaleVersion):
        concern_triage(actor=town_admin, decision=Decision(concern.pk, 1, FILE))
    assert changed_tables(before, database_snapshot()) == []


def test_more_than_the_batch_limit_is_refused_whole(world, field, morning, town_admin):
    concern = phone_concern(world, field)
    decisions = [Decision(concern.pk, 1, DECLINE, reason="无需处理")] * (BATCH_LIMIT + 1)
    before = database_snapshot()
    with pytest.raises(ActionInvalid) as refused:
        concerns_triage(actor=town_admin, decisions=decisions)
    assert refused.value.message == f"一次最多梳理 {BATCH_LIMIT} 条反映"
    assert changed_tables(before, database_snapshot()) == []
    # exactly the limit is fine (the first decides, the other 199 are its duplicates)
    results = concerns_triage(actor=town_admin, decisions=decisions[:BATCH_LIMIT])
    assert [r.status for r in results] == ["done"] + ["duplicate"] * (BATCH_LIMIT - 1)


# --- The visit from the issue -----------------------------------------------------------------

ISSUE_ANSWERS = (
    AnswerIn("safety", ("不安全",)),
    AnswerIn("trend", ("变差了",)),
    AnswerIn("night", ("很担心",)),
    AnswerIn("nearby", ("赌博",)),
    AnswerIn("disputes", ("不能",)),
    AnswerIn("police", ("不满意",)),
    AnswerIn("aware", ("知道",)),
)
GAMBLING = "村东头有人聚众赌博"
STREET_LIGHT = "村口路灯坏了，晚上出行不便"


@pytest.fixture
def town_lists(world):
    """The part of the town's category list and routing rules (as the seed has them) that
    the issue's visit touches: gambling to the police, street lights to the town office."""
    for order, name in enumerate(("治安", "矛盾纠纷", "基础设施", "政法机关服务", "其他")):
        ProblemCategory.objects.create(town=world.town, name=name, sort_order=order)
    works = UnitFactory(region=world.town, name="城建办公室", kind=Unit.Kind.TOWN_OFFICE)
    RoutingRule.objects.create(town=world.town, keywords="赌博、赌钱、打牌、聚赌、盗窃",
                               category="治安", unit=world.police, priority=30)  # fmt: skip
    RoutingRule.objects.create(town=world.town, keywords="纠纷、吵架、邻里、调解",
                               category="矛盾纠纷", priority=40)  # fmt: skip
    RoutingRule.objects.create(town=world.town, keywords="路灯、道路、修路",
                               category="基础设施", unit=works, priority=60)  # fmt: skip
    return works


def issue_visit(world, field) -> Concern:
    return visit_concern(
        world, field, answers=ISSUE_ANSWERS, problems=[ProblemIn(GAMBLING, "治安")],
        opinion=STREET_LIGHT,
    )  # fmt: skip


def test_the_issue_visit_brings_in_exactly_one_concern_with_everything_it_raised(
    world, field, morning
):
    concern = issue_visit(world, field)

    assert Concern.objects.count() == 1
    assert (concern.source, concern.household, concern.cadre, concern.outcome) == (
        "visit", field.households[0], field.cadre, "",
    )  # fmt: skip
    assert [
        (i.kind, i.question.key if i.question else None, i.option.label if i.option else None,
         i.feeling)
        for i in concern.items.select_related("question", "option").order_by("position")
    ] == [
        ("answer", "safety", "不安全", True),
        ("answer", "trend", "变差了", True),
        ("answer", "night", "很担心", True),
        ("answer", "nearby", "赌博", False),
        ("answer", "disputes", "不能", True),
        ("answer", "police", "不满意", True),
        ("matter", None, None, False),
        ("opinion", None, None, False),
    ]  # fmt: skip
    texts = list(concern.items.order_by("position").values_list("text", flat=True))
    assert texts[-2:] == [GAMBLING, STREET_LIGHT]
    assert Problem.objects.count() == 0


def test_the_issue_visit_files_both_gambling_items_together_and_a_talk_for_the_feelings(
    world, field, morning, town_admin, town_lists
):
    """The documented rules: matters present → 立案 (not 思想工作), routed by the first rule
    whose keyword appears (赌博 → 治安 → 派出所), and the feelings get a 思想工作 case."""
    concern = issue_visit(world, field)
    items = list(concern.items.select_related("option", "question"))

    suggestion = suggest(concern, items, TownIndex(world.town))

    assert (suggestion.outcome, suggestion.category, suggestion.unit) == (
        FILE, "治安", world.police,
    )  # fmt: skip
    assert "赌博" in suggestion.reason
    assert suggestion.candidates == []

    result = decide(town_admin, concern, FILE, category=suggestion.category,
                    unit_id=suggestion.unit.pk, severity="general")  # fmt: skip

    problem = Problem.objects.get()  # one problem, not one per answer
    assert (result.problem_id, problem.status, problem.unit, problem.category) == (
        problem.pk, "dispatched", world.police, "治安",
    )  # fmt: skip
    assert "赌博" in problem.description
    assert GAMBLING in problem.description
    for feeling in ("不安全", "变差了", "很担心", "不能", "不满意"):
        assert feeling not in problem.description
    work = ThoughtWork.objects.get()
    assert (result.thought_work_id, work.concern, work.cadre) == (work.pk, concern, field.cadre)
    assert problem.reporters.get().household == field.households[0]


def test_the_issue_visit_does_not_send_the_street_light_to_the_police_with_the_gambling(
    world, field, morning, town_admin, town_lists
):
    """Issue 12 expects one problem about the gambling (both gambling items together) and a
    思想工作 case for the feelings. The opinion about the street light is another matter for
    another unit (the town's own rule: 路灯 → 基础设施 → 城建办公室): it must not be filed
    into the police's gambling problem."""
    concern = issue_visit(world, field)
    items = list(concern.items.select_related("option", "question"))
    suggestion = suggest(concern, items, TownIndex(world.town))
    decide(town_admin, concern, FILE, category=suggestion.category,
           unit_id=suggestion.unit.pk, severity="general")  # fmt: skip

    gambling = Problem.objects.get(unit=world.police)
    assert "赌博" in gambling.description
    assert GAMBLING in gambling.description
    assert "路灯" not in gambling.description, (
        f"the police's gambling problem also holds the street light: {gambling.description!r}"
    )
