"""The cadre's mobile pages: scoping, tabs, the visit form and its round trip to the sync API."""

import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from pingan.accounts.models import Role
from pingan.campaigns.models import Assignment
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.surveys.answers import AnswerIn
from pingan.visits.models import Concern, ConcernItem, Visit
from pingan.visits.services import visit_sync
from tests.factories import make_household, visit_in

NOT_CADRES = [role for role in Role.values if role != Role.CADRE]


@pytest.fixture
def cadre_client(world, field) -> Client:
    client = Client()
    client.force_login(world.users[Role.CADRE])
    return client


def _urls(household) -> list[str]:
    return [
        reverse("field:visit_form", args=[household.pk]),
        reverse("field:household_history", args=[household.pk]),
    ]


# --- scoping ---------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(field):
    client = Client()
    for url in [reverse("field:households"), *_urls(field.households[0])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("web:login"))


@pytest.mark.parametrize("role", NOT_CADRES)
def test_other_roles_get_403(world, field, role):
    # The field pages are the visiting cadre's tool; every other role has the back office.
    client = Client()
    client.force_login(world.users[role])
    for url in [reverse("field:households"), *_urls(field.households[0])]:
        assert client.get(url).status_code == 403, (role, url)


def test_cadre_sees_only_assigned_households(world, field, cadre_client):
    outside = make_household(world.faraway)
    for household in field.households:
        for url in _urls(household):
            assert cadre_client.get(url).status_code == 200, url
    for household in [*field.other_households, outside]:
        for url in _urls(household):
            assert cadre_client.get(url).status_code == 404, url
    listed = cadre_client.get(reverse("field:households")).context["page"].object_list
    assert {h.pk for h in listed} == {h.pk for h in field.households}


def test_a_household_handed_over_leaves_the_cadre(world, field, cadre_client):
    household = field.households[0]
    Assignment.objects.filter(household=household).update(ended_at=clock.now())
    for url in _urls(household):
        assert cadre_client.get(url).status_code == 404


def test_cadre_lands_on_the_field_page(world, field):
    client = Client()
    response = client.post(
        reverse("web:login"), {"username": "cadre", "password": "pass-word-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("field:households")


def test_without_a_campaign_the_list_says_so(world, cadre_client_without_campaign):
    response = cadre_client_without_campaign.get(reverse("field:households"))
    assert response.status_code == 200
    assert "本镇还没有走访活动" in response.content.decode()


@pytest.fixture
def cadre_client_without_campaign(world) -> Client:
    client = Client()
    client.force_login(world.users[Role.CADRE])
    return client


# --- the list: tabs, masking, search, queries ---------------------------------------------------


def _tab_counts(response) -> dict[str, int]:
    return {key: count for key, _label, count in response.context["tabs"]}


def test_tab_counts_follow_the_synced_visits(world, field, cadre_client):
    # Given: one household reached, one found nobody home, one not visited yet,
    # and a colleague's household reached (not the cadre's).
    actor = world.users[Role.CADRE]
    first, second, third = field.households
    results = visit_sync(
        actor=actor,
        items=[
            visit_in(first, field.questionnaire),
            visit_in(second, None, outcome="not_home", answers=()),
        ],
    )
    assert [r.status for r in results] == ["created", "created"]

    response = cadre_client.get(reverse("field:households"))

    assert _tab_counts(response) == {"all": 3, "not_visited": 1, "revisit": 1, "reached": 1}
    for tab, expected in (("not_visited", third), ("revisit", second), ("reached", first)):
        page = cadre_client.get(reverse("field:households"), {"tab": tab}).context["page"]
        assert [h.pk for h in page.object_list] == [expected.pk], tab

    # When the revisit reaches the household, it moves to 已走访.
    visit_sync(actor=actor, items=[visit_in(second, None, outcome="refused", answers=())])
    response = cadre_client.get(reverse("field:households"))
    assert _tab_counts(response) == {"all": 3, "not_visited": 1, "revisit": 0, "reached": 2}


def test_list_masks_personal_data(world, field, cadre_client):
    household = field.households[0]
    household.head_name = "张三丰"
    household.tags = ["留守老人"]
    household.save()
    html = cadre_client.get(reverse("field:households")).content.decode()
    assert "张**" in html
    assert "张三丰" not in html
    assert household.phone_masked in html
    assert "留守老人" in html


def test_search_by_address(world, field, cadre_client):
    household = field.households[1]
    household.address = "七营村后街18号"
    household.save()
    page = cadre_client.get(reverse("field:households"), {"q": "后街"}).context["page"]
    assert [h.pk for h in page.object_list] == [household.pk]
    response = cadre_client.get(reverse("field:households"), {"q": "没有这条街"})
    assert _tab_counts(response)["all"] == 0


def test_list_query_count_does_not_grow(world, field, cadre_client, django_assert_num_queries):
    for _ in range(25):
        household = make_household(world.qiying, tags=["困难户"])
        Assignment.objects.create(
            campaign=field.campaign, household=household, cadre=field.cadre, source="allocation"
        )
    visit_sync(
        actor=world.users[Role.CADRE],
        items=[visit_in(h, field.questionnaire) for h in field.households],
    )
    # session + user, campaign, counts, page count, page rows
    # +1: the 反馈群众 counts (households to contact, and those waiting for the leader)
    # +1: the 思想工作 count
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(11):
        response = cadre_client.get(reverse("field:households"))
    assert len(response.context["page"].object_list) == 20


# --- the visit form ----------------------------------------------------------------------------


def test_form_shows_the_whole_questionnaire_with_nothing_chosen(field, cadre_client):
    html = cadre_client.get(reverse("field:visit_form", args=[field.households[0].pk])).content
    html = html.decode()
    questions = field.questionnaire.questions.all()
    assert len(questions) == 16
    for question in questions:
        assert f'id="q-{question.key}"' in html
        assert question.text in html
        assert escape(question.explanation) in html
    assert html.count('class="explain"') == 16
    # Nothing is pre-selected: no checked or selected option anywhere.
    assert not re.search(r"\bchecked\b", html)
    assert not re.search(r"<option[^>]*\bselected\b", html)
    # The outcomes the cadre chooses from.
    for label in ("入户走访", "电话走访", "拒绝调查", "不在家", "空挂户"):
        assert label in html
    # 1a is hidden until 不太安全 or 不安全, and the server re-checks it.
    assert re.search(
        r'id="q-safety_reason"[^>]*data-show-if-question="safety"'
        r'[^>]*data-show-if-options="不太安全\|不安全"[^>]*hidden',
        html,
    )
    # 都没有 excludes the others; 其他 has its text box; question 1 is required.
    assert re.search(r'name="q:nearby" value="都没有" data-exclusive="1"', html)
    assert 'name="qtext:safety_reason"' in html
    assert re.search(r'id="q-safety"[^>]*data-required="1"', html)
    # No polarity or score leaks onto the page.
    assert "polarity" not in html
    assert "score" not in html
    config = json.loads(re.search(r'id="visit-config"[^>]*>(.*?)</script>', html).group(1))
    assert config["household_id"] == field.households[0].pk
    assert config["questionnaire_id"] == field.questionnaire.pk


def test_form_query_count(field, cadre_client, django_assert_num_queries):
    # session, user, region and its town, campaign, household, questionnaire + questions + options
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(10):
        response = cadre_client.get(reverse("field:visit_form", args=[field.households[0].pk]))
    assert response.status_code == 200


def _page_payload(household, questionnaire) -> dict:
    """What the form's script posts (field.js `buildPayload`)."""
    return {
        "visits": [
            {
                "uuid": str(uuid.uuid4()),
                "household_id": household.pk,
                "outcome": "completed",
                "started_at": "2021-10-18T09:00:00+08:00",
                "ended_at": "2021-10-18T09:14:31+08:00",
                "leaflet_handed": True,
                "answers": [
                    {"question": "safety", "options": ["不太安全"]},
                    {"question": "safety_reason", "options": ["其他"], "option_text": "路灯坏了"},
                    {"question": "nearby", "options": ["都没有"]},
                    {"question": "police", "options": ["满意"]},
                    {"question": "opinion", "text": "希望多巡逻"},
                ],
                "problems": [{"text": "村东头路灯坏了", "category": "治安"}],
                "device_id": "d1",
                "app_version": "field-web-1",
                "questionnaire_id": questionnaire.pk,
                "opinion": "希望多巡逻",
                "lat": "33.123456",
                "lng": "115.654321",
                "accuracy_m": 12,
            }
        ]
    }


def _sync(client: Client, payload: dict, token: str | None):
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(
        "/api/v1/visits/sync", json.dumps(payload), content_type="application/json",
        headers=headers,
    )  # fmt: skip


def test_round_trip_form_sync_history(world, field):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.CADRE])
    household = field.households[0]
    # Given the form page, which sets the CSRF cookie.
    form = client.get(reverse("field:visit_form", args=[household.pk]))
    assert form.status_code == 200
    token = client.cookies["csrftoken"].value
    payload = _page_payload(household, field.questionnaire)

    # Without the token the session cannot post.
    assert _sync(client, payload, None).status_code == 403
    assert not Visit.objects.exists()

    # When the page posts the visit with the session and the token.
    response = _sync(client, payload, token)
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["status"] == "created", result
    # 不太安全 is negative: one concern (反映) with three items — the answer, the matter the
    # resident raised and the opinion — waiting for the town center's triage.
    concern = Concern.objects.get(pk=result["concern_id"])
    assert [i.kind for i in concern.items.order_by("position")] == ["answer", "matter", "opinion"]
    assert not Problem.objects.exists()

    # A retry from the outbox (same uuid, same payload) is a duplicate, not a second visit.
    again = _sync(client, payload, token).json()["results"][0]
    assert again["status"] == "duplicate"
    assert Visit.objects.count() == 1
    visit = Visit.objects.get()
    assert visit.opinion == "希望多巡逻"
    assert str(visit.lat) == "33.123456"

    # Then the history page shows the visit, in Shanghai time, with its concern's items.
    html = client.get(reverse("field:household_history", args=[household.pk])).content.decode()
    assert "2021-10-18 09:14" in html
    assert "入户走访" in html
    assert "王建国" in html
    assert "村东头路灯坏了" in html
    assert "待梳理" in html
    assert "希望多巡逻" in html
    # and the list moves the household to 已走访.
    counts = _tab_counts(client.get(reverse("field:households")))
    assert counts["reached"] == 1


def test_rejected_fields_come_back_per_question(world, field):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.CADRE])
    household = field.households[0]
    client.get(reverse("field:visit_form", args=[household.pk]))
    payload = _page_payload(household, field.questionnaire)
    payload["visits"][0]["answers"] = [{"question": "safety_reason", "options": ["赌博"]}]
    result = _sync(client, payload, client.cookies["csrftoken"].value).json()["results"][0]
    assert result["status"] == "rejected"
    locs = {tuple(error["loc"]) for error in result["errors"]}
    # The page shows each next to its question (data-error-for="answers.<key>").
    assert ("answers", "safety") in locs
    assert ("answers", "safety_reason") in locs
    assert not Visit.objects.exists()


def test_history_query_count(world, field, cadre_client, django_assert_num_queries):
    household = field.households[0]
    actor = world.users[Role.CADRE]
    items = [
        visit_in(household, None, outcome="not_home", answers=()),
        visit_in(
            household,
            field.questionnaire,
            answers=(AnswerIn("safety", ("不安全",)), AnswerIn("police", ("不满意",))),
        ),
    ]
    visit_sync(actor=actor, items=items)
    assert ConcernItem.objects.count() == 2
    # visits with their concern, the concerns' items, the problems they went into
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(10):
        response = cadre_client.get(reverse("field:household_history", args=[household.pk]))
    assert response.status_code == 200
    assert len(response.context["visits"]) == 2
