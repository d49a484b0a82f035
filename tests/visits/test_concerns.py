"""Concerns (反映) besides triage: calls and walk-ins (`concern_report`), the visiting cadre's
record of a talk (`thought_work_record`), and no negative answer of a visit left behind."""

import datetime as dt

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.campaigns.models import Assignment, ProblemCategory
from pingan.core import clock, crypto, pii
from pingan.ledger.triage import Decision, concern_triage
from pingan.surveys.answers import AnswerIn
from pingan.visits.concerns import (
    ConcernError,
    ConcernForbidden,
    category_names,
    concern_report,
    thought_work_record,
)
from pingan.visits.models import Answer, Concern, ConcernItem, ThoughtWork, Visit
from pingan.visits.services import ProblemIn, visit_sync
from tests.conftest import changed_tables, database_snapshot
from tests.factories import make_campaign, make_household, make_person, make_user, visit_in

SHANGHAI = clock.SHANGHAI
MORNING = dt.datetime(2021, 10, 22, 9, 30, tzinfo=SHANGHAI)
PHONE = "13812345678"


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield MORNING


@pytest.fixture
def categories(world):
    for order, name in enumerate(("治安", "矛盾纠纷", "基础设施", "其他")):
        ProblemCategory.objects.create(town=world.town, name=name, sort_order=order)
    ProblemCategory.objects.create(town=world.town, name="已停用", sort_order=9, active=False)


def report(actor, **kw) -> Concern:
    kw.setdefault("text", "村口路灯坏了，晚上出行不便")
    return concern_report(actor=actor, **kw)


def refused(actor, **kw) -> ConcernError:
    """The refusal of a report, after checking it wrote nothing."""
    before = database_snapshot()
    with pytest.raises(ConcernError) as caught:
        report(actor, **kw)
    assert changed_tables(before, database_snapshot()) == []
    return caught.value


# --- 来电来访: who registers what ----------------------------------------------------------------


def test_the_town_center_registers_a_call_for_a_household(world, field, morning):
    admin = world.users[Role.TOWN_ADMIN]

    concern = report(admin, household_id=field.households[0].pk, text="  村东头有人聚众赌博  ")

    assert (concern.source, concern.village, concern.household, concern.campaign) == (
        "phone", world.qiying, field.households[0], field.campaign,
    )  # fmt: skip
    # the household's visiting cadre takes the answer back
    assert (concern.cadre, concern.reported_by, concern.reported_at) == (
        field.cadre,
        admin,
        MORNING,
    )
    assert (concern.text, concern.outcome, concern.decided_at, concern.version) == (
        "村东头有人聚众赌博", "", None, 1,
    )  # fmt: skip
    [item] = concern.items.all()
    assert (item.kind, item.text, item.feeling, item.option) == (
        "matter", "村东头有人聚众赌博", False, None,
    )  # fmt: skip


def test_the_town_center_registers_a_walk_in_for_a_village(world, field, morning):
    concern = report(world.users[Role.TOWN_ADMIN], village_id=world.xinqiao.pk, source="walk_in")
    assert (concern.source, concern.village, concern.household, concern.cadre) == (
        "walk_in", world.xinqiao, None, None,
    )  # fmt: skip


def test_a_village_admin_registers_in_their_village_only(world, field, morning):
    admin = world.users[Role.VILLAGE_ADMIN]
    mine = report(admin, household_id=field.other_households[0].pk)
    assert (mine.village, mine.cadre.name) == (world.qiying, "李红")
    assert report(admin, village_id=world.qiying.pk).village == world.qiying

    elsewhere = make_household(world.xinqiao)
    error = refused(admin, household_id=elsewhere.pk)
    assert (error.status, error.field) == (422, "household_id")
    assert error.message == "住户不存在或不在您的管辖范围内"
    assert refused(admin, village_id=world.xinqiao.pk).field == "village_id"


def test_a_cadre_registers_for_their_own_households_only(world, field, morning):
    cadre = world.users[Role.CADRE]
    concern = report(cadre, household_id=field.households[1].pk)
    assert (concern.cadre, concern.reported_by) == (field.cadre, cadre)

    error = refused(cadre, household_id=field.other_households[0].pk)  # a colleague's
    assert (error.status, error.field) == (422, "household_id")
    no_household = refused(cadre, village_id=world.qiying.pk)
    assert (no_household.field, no_household.message) == ("household_id", "请选择反映问题的住户")


@pytest.mark.parametrize("role", [Role.UNIT_HANDLER, Role.LEADER, Role.COUNTY_VIEWER])
def test_other_roles_may_not_register_concerns(world, field, morning, role):
    error = refused(world.users[role], household_id=field.households[0].pk)
    assert isinstance(error, ConcernForbidden)
    assert (error.status, error.message) == (403, "您的角色无权登记群众反映")


def test_a_household_of_another_town_is_out_of_scope(world, field, morning):
    make_campaign(world.other_town, {world.faraway: 300})
    faraway = make_household(world.faraway)
    error = refused(world.users[Role.TOWN_ADMIN], household_id=faraway.pk)
    assert (error.status, error.field) == (422, "household_id")
    assert refused(world.users[Role.TOWN_ADMIN], village_id=world.faraway.pk).field == "village_id"


def test_a_household_and_another_village_do_not_go_together(world, field, morning):
    error = refused(world.users[Role.TOWN_ADMIN], household_id=field.households[0].pk,
                    village_id=world.xinqiao.pk)  # fmt: skip
    assert (error.field, error.message) == ("village_id", "住户不属于所选村")


@pytest.mark.parametrize(
    ("kw", "field_name"),
    [
        ({"text": "   "}, "text"),
        ({"text": "长" * 2001}, "text"),
        ({"source": "visit"}, "source"),
        ({"source": "letter"}, "source"),
        ({"caller_name": "名" * 33}, "caller_name"),
    ],
)
def test_incomplete_reports_are_refused_in_chinese(world, field, morning, kw, field_name):
    error = refused(world.users[Role.TOWN_ADMIN], household_id=field.households[0].pk, **kw)
    assert (error.status, error.field) == (422, field_name)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message)


def test_the_category_comes_from_the_towns_list(world, field, morning, categories):
    admin = world.users[Role.TOWN_ADMIN]
    assert category_names(town=world.town) == ["治安", "矛盾纠纷", "基础设施", "其他"]
    assert report(admin, household_id=field.households[0].pk, category="基础设施").category == (
        "基础设施"
    )
    for unknown in ("路灯", "已停用"):
        error = refused(admin, household_id=field.households[0].pk, category=unknown)
        assert (error.status, error.field) == (422, "category")
        assert error.message == f"类别“{unknown}”不在本镇的类别表中"


def test_the_caller_and_the_callback_number_are_sealed(world, field, morning):
    concern = report(world.users[Role.TOWN_ADMIN], household_id=field.households[0].pk,
                     caller_name="  张卫东 ", callback_phone="138 1234 5678")  # fmt: skip
    concern.refresh_from_db()
    assert PHONE not in concern.phone_ciphertext
    assert concern.phone_ciphertext
    assert crypto.decrypt(concern.phone_ciphertext) == PHONE
    assert concern.phone_masked == "138****5678"
    assert concern.phone_digest == pii.phone_digest(PHONE)
    assert "张卫东" not in concern.caller_name_ciphertext
    assert crypto.decrypt(concern.caller_name_ciphertext) == "张卫东"
    assert concern.caller_name_masked == "张**"
    # nothing else of the row holds the number or the name in the clear
    row = Concern.objects.filter(pk=concern.pk).values().get()
    for name, value in row.items():
        if isinstance(value, str):
            assert PHONE not in value, name
            assert "张卫东" not in value, name


def test_a_report_without_a_caller_keeps_nothing(world, field, morning):
    concern = report(world.users[Role.TOWN_ADMIN], household_id=field.households[0].pk)
    assert (concern.phone_ciphertext, concern.phone_masked, concern.phone_digest) == ("", "", "")
    assert (concern.caller_name_ciphertext, concern.caller_name_masked) == ("", "")


@pytest.mark.parametrize("phone", ["12345", "1381234567", "电话号码"])
def test_an_invalid_callback_number_is_refused_in_chinese(world, field, morning, phone):
    error = refused(world.users[Role.TOWN_ADMIN], household_id=field.households[0].pk,
                    callback_phone=phone)  # fmt: skip
    assert (error.status, error.field) == (422, "callback_phone")
    assert error.message.startswith("手机号“")
    assert "无法识别" in error.message or "不是有效的中国大陆号码" in error.message


def test_a_town_without_a_campaign_cannot_register(world, morning):
    admin = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    error = refused(admin, village_id=world.faraway.pk)
    assert (error.field, error.message) == ("village_id", "本镇尚无走访活动，不能登记群众反映")


# --- 思想工作: the visiting cadre records the talk -------------------------------------------------


def talk_case(world, field) -> ThoughtWork:
    """不太安全 with nothing concrete, triaged to the visiting cadre as 思想工作."""
    item = visit_in(field.households[0], field.questionnaire,
                    answers=(AnswerIn("safety", ("不太安全",)), AnswerIn("police", ("满意",))))  # fmt: skip
    [result] = visit_sync(actor=world.users[Role.CADRE], items=[item])
    concern = Concern.objects.get(pk=result.concern_id)
    done = concern_triage(actor=world.users[Role.TOWN_ADMIN],
                          decision=Decision(concern.pk, concern.version, "talk"))  # fmt: skip
    return ThoughtWork.objects.get(pk=done.thought_work_id)


def record(actor, work: ThoughtWork, **kw) -> ThoughtWork:
    kw.setdefault("talked_on", dt.date(2021, 10, 22))
    kw.setdefault("notes", "上门聊了半小时，讲了最近村里治安巡逻的安排")
    kw.setdefault("view", "changed")
    return thought_work_record(actor=actor, thought_work_id=work.pk, **kw)


def test_the_visiting_cadre_records_a_talk(world, field, morning):
    work = talk_case(world, field)
    cadre = world.users[Role.CADRE]

    recorded = record(cadre, work, notes="  讲了巡逻安排  ")

    recorded.refresh_from_db()
    assert (recorded.talked_on, recorded.notes, recorded.view) == (
        dt.date(2021, 10, 22), "讲了巡逻安排", "changed",
    )  # fmt: skip
    assert (recorded.recorded_by, recorded.recorded_at) == (cadre, MORNING)


def test_recording_again_corrects_the_record(world, field, morning):
    work = talk_case(world, field)
    cadre = world.users[Role.CADRE]
    record(cadre, work, view="unchanged", notes="群众仍不放心")
    with time_machine.travel(MORNING + dt.timedelta(days=1), tick=False):
        corrected = record(cadre, work, talked_on=dt.date(2021, 10, 23), view="changed",
                           notes="第二次上门，群众表示理解")  # fmt: skip
    corrected.refresh_from_db()
    assert (corrected.talked_on, corrected.view, corrected.notes) == (
        dt.date(2021, 10, 23), "changed", "第二次上门，群众表示理解",
    )  # fmt: skip
    assert corrected.recorded_at == MORNING + dt.timedelta(days=1)
    assert ThoughtWork.objects.count() == 1


@pytest.mark.parametrize(
    ("kw", "field_name", "message"),
    [
        ({"talked_on": dt.date(2021, 10, 23)}, "talked_on", "谈话日期不能晚于今天"),
        ({"talked_on": None}, "talked_on", "请填写谈话日期"),
        ({"notes": "  "}, "notes", "请简要记录谈话内容"),
        ({"notes": "话" * 2001}, "notes", "谈话内容不能超过 2000 字"),
        ({"view": ""}, "view", "请选择群众的看法是否转变"),
        ({"view": "maybe"}, "view", "请选择群众的看法是否转变"),
    ],
)
def test_an_incomplete_talk_record_is_refused(world, field, morning, kw, field_name, message):
    work = talk_case(world, field)
    before = database_snapshot()
    with pytest.raises(ConcernError) as caught:
        record(world.users[Role.CADRE], work, **kw)
    assert (caught.value.status, caught.value.field, caught.value.message) == (
        422, field_name, message,
    )  # fmt: skip
    assert changed_tables(before, database_snapshot()) == []


def test_today_is_the_day_in_shanghai(world, field):
    """At 00:30 in Shanghai it is still yesterday in UTC: a talk of today is not 'future'."""
    with time_machine.travel(MORNING, tick=False):
        work = talk_case(world, field)
    just_after_midnight = dt.datetime(2021, 10, 23, 0, 30, tzinfo=SHANGHAI)
    with time_machine.travel(just_after_midnight, tick=False):
        recorded = record(world.users[Role.CADRE], work, talked_on=dt.date(2021, 10, 23))
        with pytest.raises(ConcernError):
            record(world.users[Role.CADRE], work, talked_on=dt.date(2021, 10, 24))
    assert recorded.talked_on == dt.date(2021, 10, 23)


@pytest.mark.parametrize(
    "role", [Role.TOWN_ADMIN, Role.LEADER, Role.VILLAGE_ADMIN, Role.UNIT_HANDLER,
             Role.COUNTY_VIEWER],
)  # fmt: skip
def test_only_the_visiting_cadre_records_the_talk(world, field, morning, role):
    work = talk_case(world, field)
    before = database_snapshot()
    with pytest.raises(ConcernForbidden) as caught:
        record(world.users[role], work)
    assert (caught.value.status, caught.value.message) == (
        403,
        "只有走访该户的干部可以记录思想工作",
    )
    assert changed_tables(before, database_snapshot()) == []


def test_another_cadre_may_not_record_the_talk(world, field, morning):
    work = talk_case(world, field)
    colleague = make_user(Role.CADRE, world.qiying, username="colleague")
    make_person(world.qiying, name="陈刚", user=colleague)
    with pytest.raises(ConcernForbidden):
        record(colleague, work)
    with pytest.raises(ConcernForbidden):  # an unknown case is refused the same way
        thought_work_record(actor=world.users[Role.CADRE], thought_work_id=work.pk + 1000,
                            talked_on=dt.date(2021, 10, 22), notes="x", view="changed")  # fmt: skip


def test_the_village_admin_stands_in_for_a_cadre_who_cannot_sign_in(world, field, morning):
    work = talk_case(world, field)
    field.cadre.user = None
    field.cadre.save(update_fields=["user"])
    recorded = record(world.users[Role.VILLAGE_ADMIN], work)
    assert recorded.recorded_by == world.users[Role.VILLAGE_ADMIN]


# --- No negative answer is lost ----------------------------------------------------------------


def test_every_negative_answer_of_a_visit_is_on_exactly_one_concern_item(world, field, morning):
    cadre = world.users[Role.CADRE]
    households = list(field.households)
    for _ in range(5):
        household = make_household(world.qiying)
        Assignment.objects.create(campaign=field.campaign, household=household,
                                  cadre=field.cadre, source="allocation")  # fmt: skip
        households.append(household)
    q = field.questionnaire
    visits = {
        "single and multiple": visit_in(households[0], q, answers=(
            AnswerIn("safety", ("不太安全",)), AnswerIn("safety_reason", ("赌博", "交通安全")),
            AnswerIn("nearby", ("赌博", "吸毒贩毒", "电信网络诈骗")),
            AnswerIn("police", ("不太满意",)), AnswerIn("court", ("说不清",)),
        )),
        "all positive": visit_in(households[1], q, answers=(
            AnswerIn("safety", ("安全",)), AnswerIn("trend", ("变好了",)),
            AnswerIn("nearby", ("都没有",)), AnswerIn("police", ("满意",)),
            AnswerIn("aware", ("不知道",)), AnswerIn("participate", ("没参加过",)),
        )),
        "every single choice": visit_in(households[2], q, answers=(
            AnswerIn("safety", ("比较安全",)), AnswerIn("trend", ("变差了",)),
            AnswerIn("night", ("有些担心",)), AnswerIn("sweep", ("不满意",)),
            AnswerIn("disputes", ("不能",)), AnswerIn("police", ("比较满意",)),
            AnswerIn("court", ("不太满意",)), AnswerIn("procuratorate", ("不满意",)),
            AnswerIn("justice", ("不满意",)), AnswerIn("pingan", ("不太满意",)),
        )),
        "opinion only": visit_in(households[3], q, answers=(
            AnswerIn("safety", ("安全",)), AnswerIn("opinion", text="希望多搞几次反诈宣传"),
        )),
        "matter only": visit_in(households[4], q, problems=(ProblemIn("河边护栏断了", "安全隐患"),)),
        "blank matter": visit_in(households[5], q, problems=(ProblemIn("   "),), opinion="  "),
        "not home": visit_in(households[6], None, outcome="not_home", answers=()),
        "refused": visit_in(households[7], None, outcome="refused", answers=()),
    }  # fmt: skip
    results = dict(zip(visits, visit_sync(actor=cadre, items=list(visits.values())), strict=True))
    assert {k: r.status for k, r in results.items()} == dict.fromkeys(visits, "created"), {
        k: r.errors for k, r in results.items() if r.errors
    }

    negative = Answer.objects.filter(option__polarity="-")
    assert negative.count() == 5 + 8  # as chosen above
    for answer in negative:
        holders = ConcernItem.objects.filter(
            concern__visit=answer.visit_id, option=answer.option_id, question=answer.question_id,
            kind="answer",
        )  # fmt: skip
        assert holders.count() == 1, (answer.question.key, answer.option.label)
    # ... and no item claims an answer that was not given
    assert ConcernItem.objects.filter(kind="answer").count() == negative.count()
    # one concern per visit that brought in anything, none for the others
    with_concern = {k for k, r in results.items() if r.concern_id is not None}
    assert with_concern == {"single and multiple", "every single choice", "opinion only",
                            "matter only"}  # fmt: skip
    assert Concern.objects.count() == 4
    assert Concern.objects.filter(visit__isnull=True).count() == 0
    quiet = [results[k].visit_id for k in visits if k not in with_concern]
    assert not Concern.objects.filter(visit__in=quiet).exists()
    assert Visit.objects.count() == len(visits)
    opinion = Concern.objects.get(pk=results["opinion only"].concern_id)
    assert list(opinion.items.values_list("kind", "text")) == [("opinion", "希望多搞几次反诈宣传")]
    # neutral options (安全感 reasons, 不知道, 没参加过) are no concern of anyone
    assert not ConcernItem.objects.filter(option__polarity__in=["0", "+", "?"]).exists()
