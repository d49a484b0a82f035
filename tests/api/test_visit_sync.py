"""`POST /api/v1/visits/sync` over HTTP: replays, conflicts, mixed batches, item errors."""

import uuid

from pingan.accounts.models import Role
from pingan.ledger.models import Problem
from pingan.visits.models import Concern, Visit


def _item(household, questionnaire, **overrides) -> dict:
    item = {
        "uuid": str(uuid.uuid4()),
        "household_id": household.pk,
        "outcome": "completed",
        "started_at": "2021-10-18T09:00:00+08:00",
        "ended_at": "2021-10-18T09:12:30+08:00",
        "questionnaire_id": questionnaire.pk,
        "answers": [
            {"question": "safety", "options": ["比较安全"], "answer_ms": 5200},
            {"question": "police", "options": ["不满意"]},
        ],
        "leaflet_handed": True,
        "lat": "33.123456",
        "lng": "115.654321",
        "accuracy_m": 12.5,
        "mock_location": False,
        "device_id": "android-7f3a",
        "app_version": "1.0.0",
    }
    item.update(overrides)
    return item


def test_a_batch_replayed_three_times_is_stored_once(world, field, api_as):
    client = api_as(world.users[Role.CADRE])
    batch = {"visits": [_item(h, field.questionnaire) for h in field.households]}
    answers = [client.post("/visits/sync", batch) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    first, *replays = (a.json() for a in answers)
    assert first["summary"] == {"created": 3, "duplicate": 0, "conflict": 0, "rejected": 0}
    for replay in replays:
        assert replay["summary"] == {"created": 0, "duplicate": 3, "conflict": 0, "rejected": 0}
        assert [(r["visit_id"], r["concern_id"]) for r in replay["results"]] == [
            (r["visit_id"], r["concern_id"]) for r in first["results"]
        ]
    assert Visit.objects.count() == 3
    assert Concern.objects.count() == 3  # one 不满意 each: a concern per visit
    assert Problem.objects.count() == 0
    visit = Visit.objects.get(uuid=batch["visits"][0]["uuid"])
    assert (str(visit.lat), visit.accuracy_m, visit.mock_location) == ("33.123456", 12.5, False)
    assert visit.answers.get(question__key="safety").answer_ms == 5200


def test_replay_in_another_time_zone_and_key_order_is_still_a_replay(world, field, api_as):
    client = api_as(world.users[Role.CADRE])
    item = _item(field.households[0], field.questionnaire)
    client.post("/visits/sync", {"visits": [item]})
    same = dict(reversed(list(item.items())))
    same["started_at"] = "2021-10-18T01:00:00Z"
    same["ended_at"] = "2021-10-18T01:12:30+00:00"
    result = client.post("/visits/sync", {"visits": [same]}).json()["results"][0]
    assert result["status"] == "duplicate"


def test_a_conflicting_replay_is_409_for_that_item(world, field, api_as):
    client = api_as(world.users[Role.CADRE])
    item = _item(field.households[0], field.questionnaire)
    client.post("/visits/sync", {"visits": [item]})
    changed = {**item, "answers": [{"question": "safety", "options": ["安全"]}]}
    result = client.post("/visits/sync", {"visits": [changed]}).json()["results"][0]
    assert (result["status"], result["code"]) == ("conflict", 409)
    assert Visit.objects.get(uuid=item["uuid"]).answers.count() == 2


def test_malformed_items_are_rejected_alone(world, field, api_as):
    client = api_as(world.users[Role.CADRE])
    good = _item(field.households[0], field.questionnaire)
    naive = _item(field.households[1], field.questionnaire, started_at="2021-10-18T09:00:00")
    bad_uuid = _item(field.households[2], field.questionnaire, uuid="not-a-uuid")
    bad_outcome = _item(field.households[2], field.questionnaire, outcome="gone_fishing")
    answer = client.post("/visits/sync", {"visits": [good, naive, bad_uuid, bad_outcome]})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert results[1]["errors"][0]["loc"] == ["started_at"]
    assert "时区" in results[1]["errors"][0]["msg"]
    assert results[2]["errors"][0] == {"loc": ["uuid"], "msg": "应为 UUID", "type": "uuid_parsing"}
    assert results[3]["errors"][0]["loc"] == ["outcome"]
    assert "取值无效" in results[3]["errors"][0]["msg"]
    assert Visit.objects.count() == 1


def test_more_than_200_items_is_refused_whole(world, field, api_as):
    client = api_as(world.users[Role.CADRE])
    item = _item(field.households[0], field.questionnaire)
    answer = client.post("/visits/sync", {"visits": [item] * 201})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["msg"] == "最多允许 200 项"
    assert Visit.objects.count() == 0


def test_someone_elses_household_is_rejected(world, field, api_as):
    client = api_as(world.users[Role.CADRE])
    item = _item(field.other_households[0], field.questionnaire)
    result = client.post("/visits/sync", {"visits": [item]}).json()["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["msg"] == "该户未分配给您（分片包干），不能提交走访"


def test_sync_needs_a_signed_in_user(field, anonymous):
    answer = anonymous.post("/visits/sync", {"visits": []})
    assert answer.status_code == 401
    assert set(answer.json()) == {"detail", "errors"}
