"""思想工作 on the cadre's phone: the residents the town center sent back for a face-to-face talk
(nothing concrete to fix), and the record of each talk: the date (not after today), what was
said, and whether the resident's view changed. Recording again corrects the record."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pingan.accounts.models import Notification, Role
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.ledger.triage import Decision, concern_triage
from pingan.visits.models import Concern, ThoughtWork
from pingan.visits.selectors import thought_work_count_to_record, thought_work_list_for_field
from tests.field.merged import NEXT_DAY, cadre_with_household, phone_concern, talk_case

TODAY = NEXT_DAY.date()  # 2021-10-22


@pytest.fixture
def frozen():
    with time_machine.travel(NEXT_DAY, tick=False):
        yield


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cadre_client(world, field, frozen) -> Client:
    return _client(world.users[Role.CADRE])


@pytest.fixture
def work(world, field) -> ThoughtWork:
    return talk_case(world, field.households[0])


def _html(response) -> str:
    return response.content.decode()


def _record(client, work: ThoughtWork, **data):
    values = {"talked_on": "2021-10-22", "notes": "讲了村里的巡逻安排", "view": "changed"}
    return client.post(reverse("field:talk", args=[work.pk]), {**values, **data})


def _recorded(work: ThoughtWork) -> ThoughtWork:
    return ThoughtWork.objects.get(pk=work.pk)


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_the_resident_and_their_words(world, field, work, cadre_client):
    household = field.households[0]
    html = _html(cadre_client.get(reverse("field:talks")))
    assert f'id="talk-{work.pk}"' in html
    assert "总觉得晚上不太安全" in html  # the resident's words (the concern's item)
    assert household.address in html
    assert household.head_name not in html  # masked
    assert household.phone_masked in html
    assert "2021-10-21 10:00 反映" in html  # when it was raised, Shanghai time
    assert "待谈话" in html
    assert reverse("field:talk", args=[work.pk]) in html


def test_the_home_counts_the_talks_to_hold(world, field, work, cadre_client):
    talk_case(world, field.households[1], "说不清，就是不放心")
    html = _html(cadre_client.get(reverse("field:households")))
    assert "2 户待谈话" in html
    assert 'class="talk-link waiting" href="/field/talks/"' in html
    _record(cadre_client, work)
    assert "1 户待谈话" in _html(cadre_client.get(reverse("field:households")))


def test_recorded_talks_come_after_those_to_hold_and_drop_off_after_30_days(
    world, field, work, cadre_client
):
    later = talk_case(world, field.households[1], "说不清，就是不放心")
    assert _record(cadre_client, work).status_code == 302
    html = _html(cadre_client.get(reverse("field:talks")))
    assert html.index(f'id="talk-{later.pk}"') < html.index("最近已记录（可更正）")
    assert html.index("最近已记录（可更正）") < html.index(f'id="talk-{work.pk}"')
    assert "2021-10-22 谈话，群众看法已转变" in html
    user = world.users[Role.CADRE]
    in_31_days = clock.now() + dt.timedelta(days=31)
    assert list(thought_work_list_for_field(user=user, now=in_31_days)) == [later]


def test_talk_list_query_count(world, field, cadre_client, django_assert_num_queries):
    for household in field.households:
        talk_case(world, household)
    # session, user, page count, rows (household, village, concern joined), the concerns'
    # items; +1: whether the site holds synthetic data (the banner), asked by the first page
    with django_assert_num_queries(6):
        response = cadre_client.get(reverse("field:talks"))
    assert len(response.context["page"].object_list) == 3


def test_the_notification_links_to_the_talk_page(world, field, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        work = talk_case(world, field.households[0])
    notice = Notification.objects.get(recipient=world.users[Role.CADRE], kind="thought_work")
    assert notice.link == reverse("field:talk", args=[work.pk])


def test_a_filed_concern_with_feelings_also_gets_a_talk(world, field, cadre_client):
    # 不太安全 is a feeling: filed as a problem, the feeling still needs a talk
    with clock.at(NEXT_DAY - dt.timedelta(hours=1)):
        concern = phone_concern(world, field.households[0], "路灯坏了")
        concern.items.update(feeling=True)
        result = concern_triage(
            actor=world.users[Role.TOWN_ADMIN],
            decision=Decision(concern.pk, concern.version, Concern.Outcome.FILE),
        )
    assert Problem.objects.filter(pk=result.problem_id).exists()
    assert result.thought_work_id is not None
    assert f'id="talk-{result.thought_work_id}"' in _html(cadre_client.get(reverse("field:talks")))


# --- the record ------------------------------------------------------------------------------


def test_the_form_offers_today_and_nothing_chosen(work, cadre_client):
    html = _html(cadre_client.get(reverse("field:talk", args=[work.pk])))
    assert 'type="date" name="talked_on" value="2021-10-22"' in html
    assert 'max="2021-10-22"' in html
    assert "总觉得晚上不太安全" in html
    assert 'value="changed"' in html
    assert 'value="unchanged"' in html
    assert "checked" not in html
    assert "保存记录" in html


def test_recording_a_talk(world, work, cadre_client):
    response = _record(cadre_client, work, talked_on="2021-10-21", notes="  讲了巡逻安排  ",
                       view="unchanged")  # fmt: skip
    assert response.status_code == 302
    assert response.url == f"{reverse('field:talks')}?saved=talk-{work.pk}"
    recorded = _recorded(work)
    assert recorded.talked_on == dt.date(2021, 10, 21)
    assert recorded.notes == "讲了巡逻安排"
    assert recorded.view == ThoughtWork.View.UNCHANGED
    assert recorded.recorded_by == world.users[Role.CADRE]
    assert recorded.recorded_at == clock.now()
    html = _html(cadre_client.get(response.url))
    assert "已记录思想工作。" in html
    assert f'data-drafts-saved="talk-{work.pk}"' in html
    assert thought_work_count_to_record(user=world.users[Role.CADRE]) == 0


def test_recording_again_corrects_the_record(work, cadre_client):
    _record(cadre_client, work, view="unchanged")
    html = _html(cadre_client.get(reverse("field:talk", args=[work.pk])))
    assert "讲了村里的巡逻安排</textarea>" in html  # the record is shown to correct
    assert "再次提交将更正这条记录" in html
    assert "更正记录" in html
    response = _record(cadre_client, work, notes="第二次上门，群众表示理解", view="changed")
    assert response.status_code == 302
    assert "已更正思想工作记录。" in _html(cadre_client.get(response.url))
    recorded = _recorded(work)
    assert recorded.notes == "第二次上门，群众表示理解"
    assert recorded.view == ThoughtWork.View.CHANGED


def test_an_empty_record_says_every_missing_input_in_chinese(work, cadre_client):
    response = _record(cadre_client, work, talked_on="", notes="   ", view="")
    assert response.status_code == 422
    html = _html(response)
    for message in ("请填写谈话日期", "请简要记录谈话内容", "请选择群众的看法是否转变"):
        assert message in html, message
    assert _recorded(work).recorded_at is None


def test_a_date_after_today_is_refused_and_the_notes_kept(work, cadre_client):
    response = _record(cadre_client, work, talked_on="2021-10-23", notes="明天再去一次")
    assert response.status_code == 422
    html = _html(response)
    assert "谈话日期不能晚于今天" in html
    assert "明天再去一次</textarea>" in html
    assert _recorded(work).recorded_at is None


@pytest.mark.parametrize("value", ["22/10/2021", "2021-13-01", "昨天"])
def test_a_date_that_is_not_one_says_so(work, cadre_client, value):
    response = _record(cadre_client, work, talked_on=value)
    assert response.status_code == 422
    assert "请填写正确的日期，例如 2021-10-22" in _html(response)
    assert _recorded(work).recorded_at is None


def test_an_unknown_view_is_refused(work, cadre_client):
    response = _record(cadre_client, work, view="maybe")
    assert response.status_code == 422
    assert "请选择群众的看法是否转变" in _html(response)
    assert _recorded(work).recorded_at is None


def test_notes_too_long_are_refused(work, cadre_client):
    response = _record(cadre_client, work, notes="谈" * 2001)
    assert response.status_code == 422
    assert "谈话内容不能超过 2000 字" in _html(response)


# --- scope -----------------------------------------------------------------------------------


def test_another_cadres_talk_is_not_found(world, field, frozen):
    b = cadre_with_household(world, field)
    theirs = talk_case(world, b.household)
    mine = talk_case(world, field.households[0])
    client = _client(world.users[Role.CADRE])
    assert f'id="talk-{theirs.pk}"' not in _html(client.get(reverse("field:talks")))
    assert client.get(reverse("field:talk", args=[theirs.pk])).status_code == 404
    assert _record(client, theirs).status_code == 404
    assert _recorded(theirs).recorded_at is None
    # …and B sees theirs, not A's
    b_client = _client(b.user)
    html = _html(b_client.get(reverse("field:talks")))
    assert f'id="talk-{theirs.pk}"' in html
    assert f'id="talk-{mine.pk}"' not in html
    assert b_client.get(reverse("field:talk", args=[mine.pk])).status_code == 404


def test_an_unknown_talk_is_not_found(cadre_client):
    assert cadre_client.get(reverse("field:talk", args=[999999])).status_code == 404


def test_the_village_admin_stands_in_for_a_cadre_without_a_login(world, field, work, frozen):
    # 李红 (no account) visits field.other_households
    theirs = talk_case(world, field.other_households[0])
    client = _client(world.users[Role.VILLAGE_ADMIN])
    html = _html(client.get(reverse("field:talks")))
    assert f'id="talk-{theirs.pk}"' in html
    assert f'id="talk-{work.pk}"' not in html  # the cadre with a login holds that one
    assert client.get(reverse("field:talk", args=[work.pk])).status_code == 404
    assert _record(client, work).status_code == 404
    assert _record(client, theirs).status_code == 302
    assert _recorded(theirs).recorded_by == world.users[Role.VILLAGE_ADMIN]


@pytest.mark.parametrize(
    "role", [r for r in Role.values if r not in (Role.CADRE, Role.VILLAGE_ADMIN)]
)
def test_other_roles_use_the_back_office(world, work, frozen, role):
    client = _client(world.users[role])
    assert client.get(reverse("field:talks")).status_code == 403
    assert client.get(reverse("field:talk", args=[work.pk])).status_code == 403
    assert _record(client, work).status_code == 403
    assert _recorded(work).recorded_at is None


def test_anonymous_is_sent_to_login(work):
    response = Client().get(reverse("field:talk", args=[work.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("web:login"))
