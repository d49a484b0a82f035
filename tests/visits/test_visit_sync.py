"""Exactly-once sync: replays, conflicts, mixed batches, scope, and the problems it raises."""

import pytest

from pingan.accounts.models import Role
from pingan.ledger.models import Problem
from pingan.surveys.answers import AnswerIn
from pingan.visits.models import Answer, Concern, ConcernItem, Visit
from pingan.visits.services import ProblemIn, visit_sync
from tests.factories import visit_in


def _counts() -> tuple[int, int, int, int]:
    """Visits, answers, concerns and concern items (a sync never files a problem itself)."""
    assert Problem.objects.count() == 0
    return (
        Visit.objects.count(), Answer.objects.count(), Concern.objects.count(),
        ConcernItem.objects.count(),
    )  # fmt: skip


def test_the_same_batch_replayed_three_times_creates_once(world, field):
    cadre = world.users[Role.CADRE]
    batch = [
        visit_in(field.households[0], field.questionnaire),
        visit_in(field.households[1], field.questionnaire,
                 answers=(AnswerIn("safety", ("不安全",)), AnswerIn("police", ("不满意",)))),
        visit_in(field.households[2], None, outcome="not_home", answers=()),
    ]  # fmt: skip
    first = visit_sync(actor=cadre, items=batch)
    assert [r.status for r in first] == ["created", "created", "created"]
    after_first = _counts()
    assert after_first == (3, 3 + 2, 1, 2)  # one concern: the second visit's two 不满意
    assert [r.concern_id is not None for r in first] == [False, True, False]
    for _ in range(2):
        again = visit_sync(actor=cadre, items=batch)
        assert [r.status for r in again] == ["duplicate"] * 3
        assert [(r.visit_id, r.concern_id) for r in again] == [
            (r.visit_id, r.concern_id) for r in first
        ]
    assert _counts() == after_first


def test_the_same_uuid_with_different_content_is_a_conflict(world, field):
    cadre = world.users[Role.CADRE]
    original = visit_in(field.households[0], field.questionnaire)
    visit_sync(actor=cadre, items=[original])
    changed = visit_in(field.households[0], field.questionnaire, uuid=original.uuid,
                       answers=(AnswerIn("safety", ("不安全",)),))  # fmt: skip
    [result] = visit_sync(actor=cadre, items=[changed])
    assert result.status == "conflict"
    assert "不同的内容" in result.detail
    stored = Visit.objects.get(uuid=original.uuid)
    assert list(stored.answers.values_list("option__label", flat=True)) == ["安全", "满意", "知道"]
    assert Problem.objects.count() == 0


def test_the_same_uuid_twice_in_one_batch(world, field):
    """Within one batch, the second item with a uuid already in the batch is a duplicate when
    its content is the same and a conflict when it differs; only the first is stored."""
    cadre = world.users[Role.CADRE]
    first = visit_in(field.households[0], field.questionnaire)
    same = visit_in(field.households[0], field.questionnaire, uuid=first.uuid)
    changed = visit_in(field.households[0], field.questionnaire, uuid=first.uuid,
                       answers=(AnswerIn("safety", ("不安全",)),))  # fmt: skip
    assert same.digest == first.digest != changed.digest

    results = visit_sync(actor=cadre, items=[first, same, changed])

    assert [r.status for r in results] == ["created", "duplicate", "conflict"]
    assert results[2].detail == "同一批次中同一走访编号出现了两次且内容不同"
    assert results[2].visit_id is None
    stored = Visit.objects.get(uuid=first.uuid)
    assert list(stored.answers.values_list("option__label", flat=True)) == ["安全", "满意", "知道"]
    assert _counts() == (1, 3, 0, 0)  # the changed item's 不安全 raised no concern


def test_a_mixed_batch_keeps_every_good_item(world, field):
    cadre = world.users[Role.CADRE]
    good = visit_in(field.households[0], field.questionnaire)
    not_mine = visit_in(field.other_households[0], field.questionnaire)
    missing_required = visit_in(field.households[1], field.questionnaire,
                                answers=(AnswerIn("police", ("满意",)),))  # fmt: skip
    backwards = visit_in(field.households[2], None, outcome="not_home", answers=(),
                         ended_at=field.campaign.created_at.replace(year=2000))  # fmt: skip
    good_too = visit_in(field.households[2], None, outcome="refused", answers=())
    results = visit_sync(actor=cadre, items=[good, not_mine, missing_required, backwards, good_too])
    assert [r.status for r in results] == ["created", "rejected", "rejected", "rejected", "created"]
    assert results[1].errors == [
        {"loc": ["household_id"], "msg": "该户未分配给您（分片包干），不能提交走访",
         "type": "value_error"}
    ]  # fmt: skip
    assert results[2].errors[0]["msg"] == "第 1 题是必答题"
    assert results[3].errors[0]["msg"] == "结束时间早于开始时间"
    assert set(Visit.objects.values_list("uuid", flat=True)) == {good.uuid, good_too.uuid}


def test_a_visit_brings_in_one_concern_with_an_item_for_everything_it_raised(world, field):
    """Every negative answer, each described matter and the opinion: one concern, waiting for
    triage, with an item each; feelings (single-choice answers) told from matters."""
    cadre = world.users[Role.CADRE]
    item = visit_in(
        field.households[0],
        field.questionnaire,
        answers=(
            AnswerIn("safety", ("不太安全",)),
            AnswerIn("safety_reason", ("赌博",)),
            AnswerIn("nearby", ("赌博", "黑恶势力")),
            AnswerIn("police", ("说不清",)),
            AnswerIn("court", ("不满意",)),
        ),
        opinion="希望村口装个路灯",
        problems=(ProblemIn("村口路灯坏了三个月", "基础设施"),),
    )
    [result] = visit_sync(actor=cadre, items=[item])
    concern = Concern.objects.get()
    assert result.concern_id == concern.pk
    assert (concern.visit_id, concern.household, concern.cadre, concern.source) == (
        result.visit_id, field.households[0], field.cadre, "visit",
    )  # fmt: skip
    assert (concern.outcome, concern.decided_at, concern.category) == ("", None, "治安")
    assert [
        (i.kind, i.option.label if i.option else None, i.category, i.feeling, i.text)
        for i in concern.items.order_by("position")
    ] == [
        ("answer", "不太安全", "治安", True,
         "您觉得您所在的村（社区）社会治安安全吗？　回答：不太安全"),
        ("answer", "赌博", "治安", False, "您身边有没有下面这些问题？（可多选）　回答：赌博"),
        ("answer", "黑恶势力", "扫黑除恶", False,
         "您身边有没有下面这些问题？（可多选）　回答：黑恶势力"),
        ("answer", "不满意", "政法机关服务", True, "您对人民法院的工作满意吗？　回答：不满意"),
        ("matter", None, "基础设施", False, "村口路灯坏了三个月"),
        ("opinion", None, "", False, "希望村口装个路灯"),
    ]  # fmt: skip
    assert Problem.objects.count() == 0  # problems come from triage, not from the phone


def test_a_visit_with_nothing_to_raise_brings_in_no_concern(world, field):
    [result] = visit_sync(
        actor=world.users[Role.CADRE], items=[visit_in(field.households[0], field.questionnaire)]
    )
    assert (result.status, result.concern_id) == ("created", None)
    assert Concern.objects.count() == 0


def test_answers_are_refused_on_a_visit_that_cannot_carry_them(world, field):
    cadre = world.users[Role.CADRE]
    [result] = visit_sync(actor=cadre, items=[visit_in(field.households[0], field.questionnaire,
                                                       outcome="not_home")])  # fmt: skip
    assert result.status == "rejected"
    assert result.errors[0]["msg"] == "只有入户或电话走访才能填写问卷"


def test_a_used_questionnaire_is_frozen(world, field):
    assert field.questionnaire.frozen_at is None
    visit_sync(actor=world.users[Role.CADRE],
               items=[visit_in(field.households[0], field.questionnaire)])  # fmt: skip
    field.questionnaire.refresh_from_db()
    assert field.questionnaire.frozen_at is not None


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.VILLAGE_ADMIN, Role.LEADER])
def test_only_the_assigned_cadre_may_submit(world, field, role):
    [result] = visit_sync(actor=world.users[role],
                          items=[visit_in(field.households[0], field.questionnaire)])  # fmt: skip
    assert result.status == "rejected"
    assert Visit.objects.count() == 0


def test_a_uuid_sent_by_someone_else_is_a_conflict_not_a_leak(world, field):
    item = visit_in(field.households[0], field.questionnaire)
    visit_sync(actor=world.users[Role.CADRE], items=[item])
    [result] = visit_sync(actor=world.users[Role.TOWN_ADMIN], items=[item])
    assert result.status == "conflict"
    assert result.visit_id is None
