"""`GET /api/v1/assignments`: the cadre's households, masked, with visit state; incremental."""

import datetime as dt

import time_machine

from pingan.accounts.models import Person, Role
from pingan.campaigns.services.allocation import assignment_set
from pingan.visits.services import visit_sync
from tests.factories import visit_in


def test_a_cadre_gets_only_their_households_masked_and_the_questionnaire(
    world, field, api_as, django_assert_num_queries
):
    client = api_as(world.users[Role.CADRE])
    with django_assert_num_queries(8):
        body = client.get("/assignments").json()
    assert sorted(h["id"] for h in body["households"]) == sorted(h.pk for h in field.households)
    first = body["households"][0]
    assert first["phone"].count("*") == 4
    assert first["head_name"].endswith("*")
    raw = str(body)
    for household in field.households:
        assert household.head_name not in raw
    questionnaire = body["questionnaire"]
    assert (questionnaire["id"], questionnaire["version"]) == (field.questionnaire.pk, 1)
    safety = questionnaire["questions"][0]
    assert safety["key"] == "safety"
    assert safety["explanation"].startswith("就是问您")
    assert safety["options"][0] == {"label": "安全", "exclusive": False, "has_text": False}
    assert "polarity" not in raw
    assert questionnaire["questions"][1]["show_if"] == {
        "question": "safety",
        "options": ["不太安全", "不安全"],
    }


def test_visit_state_follows_the_visits(world, field, api_as):
    cadre = world.users[Role.CADRE]
    visit_sync(actor=cadre, items=[
        visit_in(field.households[0], field.questionnaire),
        visit_in(field.households[1], None, outcome="not_home", answers=()),
    ])  # fmt: skip
    body = api_as(cadre).get("/assignments").json()
    state = {h["id"]: (h["reached"], h["last_outcome"]) for h in body["households"]}
    assert state[field.households[0].pk] == (True, "completed")
    assert state[field.households[1].pk] == (False, "not_home")
    assert state[field.households[2].pk] == (False, None)


def test_since_returns_only_changes_and_what_was_taken_away(world, field, api_as):
    cadre = world.users[Role.CADRE]
    client = api_as(cadre)
    since = client.get("/assignments").json()["server_time"]
    later = dt.datetime.fromisoformat(since) + dt.timedelta(hours=1)
    colleague = Person.objects.exclude(pk=field.cadre.pk).get()
    with time_machine.travel(later):
        assignment_set(campaign=field.campaign, household=field.households[2], cadre=colleague,
                       actor=world.users[Role.TOWN_ADMIN])  # fmt: skip
        visit_sync(actor=cadre, items=[visit_in(field.households[0], field.questionnaire)])
        body = client.get("/assignments", since=since).json()
    assert [h["id"] for h in body["households"]] == [field.households[0].pk]
    assert body["removed"] == [field.households[2].pk]


def test_since_without_a_time_zone_is_refused(world, field, api_as):
    answer = api_as(world.users[Role.CADRE]).get("/assignments", since="2021-10-18T08:00:00")
    assert answer.status_code == 422
    assert "时区" in answer.json()["detail"]


def test_a_unit_handler_gets_no_households(world, field, api_as):
    body = api_as(world.users[Role.UNIT_HANDLER]).get("/assignments").json()
    assert body["households"] == []
