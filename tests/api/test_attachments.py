"""The attachments API: multipart uploads onto a concern, a 办结 or a feedback event (201, or
403/404/413/422 in the usual error body), the scoped file, and the lists of a concern and a
problem (query count pinned)."""

import io

import pytest
from django.urls import reverse
from PIL import ExifTags, Image

from pingan.accounts.models import Role
from pingan.api.routers.attachments import MAX_REQUEST_BYTES
from pingan.ledger.attachments import attachments_add
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Attachment, Problem
from pingan.ledger.services import ActionInput
from pingan.ledger.triage import Decision, concern_triage
from pingan.visits.models import Concern
from tests.factories import make_user
from tests.ledger.conftest import Ledger
from tests.ledger.test_attachments import (
    fresh_storage,
    last_event,
    pdf_bytes,
    photo_with_gps,
    report_concern,
    small_photo,
    stored_names,
    upload,
)


@pytest.fixture
def storage(settings):
    return fresh_storage(settings)


@pytest.fixture
def concern(world, field):
    return report_concern(world, field)


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


def post_files(api, path: str, *files, **extra):
    return api.client.post(
        f"/api/v1{path}", {"files": list(files)}, headers=api._headers(), **extra
    )


def test_a_photo_uploaded_to_a_concern_comes_back_without_gps(world, concern, storage, api_as):
    api = api_as(world.users[Role.CADRE])

    response = post_files(api, f"/attachments/concerns/{concern.pk}",
                          upload("现场.jpeg", photo_with_gps((3000, 2000), orientation=1)))  # fmt: skip

    assert response.status_code == 201
    [body] = response.json()
    attachment = Attachment.objects.get()
    assert body == {
        "id": attachment.pk,
        "kind": "image",
        "kind_label": "图片",
        "name": "现场.jpg",
        "content_type": "image/jpeg",
        "size": attachment.size,
        "sha256": attachment.sha256,
        "concern_id": concern.pk,
        "problem_id": None,
        "event_id": None,
        "event_action": "",
        "event_label": "",
        "uploaded_by": "测试用户",
        "uploaded_at": body["uploaded_at"],
        "url": f"/api/v1/attachments/{attachment.pk}",
    }
    assert body["uploaded_at"].endswith("+08:00")
    file = api.client.get(body["url"], headers=api._headers())
    assert file.status_code == 200
    assert file["Cache-Control"] == "no-store, private"
    assert file["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(b"".join(file.streaming_content)))
    assert image.size == (2000, 1333)
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not dict(image.getexif())


def test_a_refused_file_is_422_on_the_files_field_and_keeps_nothing(
    world, concern, storage, api_as
):
    api = api_as(world.users[Role.CADRE])

    response = post_files(api, f"/attachments/concerns/{concern.pk}",
                          upload("好.pdf", pdf_bytes()), upload("照片.jpg", b"%PDF-1.4 fake"))  # fmt: skip

    assert response.status_code == 422
    message = "「照片.jpg」不是有效的图片（文件内容与扩展名不符或已损坏）"
    assert response.json() == {
        "detail": message,
        "errors": [{"loc": ["body", "files"], "msg": message, "type": "attachment_error"}],
    }
    assert stored_names(storage) == set()


def test_a_triaged_concern_takes_no_more(world, concern, storage, api_as):
    concern_triage(actor=world.users[Role.TOWN_ADMIN],
                   decision=Decision(concern.pk, concern.version, Concern.Outcome.TALK))  # fmt: skip
    api = api_as(world.users[Role.CADRE])

    response = post_files(api, f"/attachments/concerns/{concern.pk}", upload("a.pdf", pdf_bytes()))

    assert response.status_code == 422
    assert response.json()["detail"] == "该反映已梳理为「思想工作」，不能再添加附件"


@pytest.mark.parametrize(
    ("who", "status", "detail"),
    [
        (Role.LEADER, 403, "您的角色无权为群众反映上传附件"),
        (Role.UNIT_HANDLER, 404, "请求的对象不存在或不在您的管辖范围内"),
        ("other_town", 404, "请求的对象不存在或不在您的管辖范围内"),
    ],
)
def test_who_may_not_upload_to_a_concern(world, concern, storage, api_as, who, status, detail):
    user = make_user(Role.TOWN_ADMIN, world.other_town) if who == "other_town" else world.users[who]

    response = post_files(api_as(user), f"/attachments/concerns/{concern.pk}",
                          upload("a.pdf", pdf_bytes()))  # fmt: skip

    assert response.status_code == status
    assert response.json()["detail"] == detail
    assert stored_names(storage) == set()


def test_a_request_too_large_is_413_before_its_body_is_read(world, concern, storage, api_as):
    api = api_as(world.users[Role.CADRE])

    response = post_files(api, f"/attachments/concerns/{concern.pk}",
                          upload("a.pdf", pdf_bytes()), CONTENT_LENGTH=str(MAX_REQUEST_BYTES + 1))  # fmt: skip

    assert response.status_code == 413
    assert response.json() == {
        "detail": "上传内容过大：每次最多 9 个文件，每个不超过 10 MB",
        "errors": [],
    }


def test_a_json_body_is_not_an_upload(world, concern, storage, api_as):
    response = api_as(world.users[Role.CADRE]).post(f"/attachments/concerns/{concern.pk}", {})

    assert response.status_code == 422
    assert response.json()["detail"] == "请以 multipart/form-data 上传，文件字段名为 files"


def test_the_unit_attaches_proof_to_its_handle_event(world, ledger, storage, api_as):
    problem = ledger.make(Problem.Status.HANDLED)
    handled = last_event(problem, Action.HANDLE)

    by_id = post_files(api_as(world.users[Role.UNIT_HANDLER]), f"/attachments/events/{handled.pk}",
                       upload("整改前后.jpg", small_photo()))  # fmt: skip
    latest = post_files(api_as(world.users[Role.UNIT_HANDLER]),
                        f"/attachments/problems/{problem.pk}/handle",
                        upload("整改报告.pdf", pdf_bytes()))  # fmt: skip

    assert by_id.status_code == 201
    assert latest.status_code == 201
    assert [(a["event_id"], a["event_action"], a["event_label"], a["problem_id"])
            for a in by_id.json() + latest.json()] == [
        (handled.pk, "handle", "办结", problem.pk)] * 2  # fmt: skip


def test_only_the_events_own_actor_attaches_to_it(world, ledger, storage, api_as):
    problem = ledger.make(Problem.Status.HANDLED)
    handled = last_event(problem, Action.HANDLE)
    town = api_as(world.users[Role.TOWN_ADMIN])
    cadre = api_as(world.users[Role.CADRE])

    refused = post_files(town, f"/attachments/events/{handled.pk}", upload("a.pdf", pdf_bytes()))
    no_event = post_files(cadre, f"/attachments/problems/{problem.pk}/handle",
                          upload("a.pdf", pdf_bytes()))  # fmt: skip
    no_action = post_files(town, f"/attachments/problems/{problem.pk}/accept",
                           upload("a.pdf", pdf_bytes()))  # fmt: skip
    unknown = post_files(town, "/attachments/events/999999", upload("a.pdf", pdf_bytes()))

    assert refused.status_code == 403
    assert refused.json()["detail"] == "只有办结该问题的单位经办人可以上传办结材料"
    assert (no_event.status_code, no_action.status_code, unknown.status_code) == (404, 404, 404)
    assert stored_names(storage) == set()


def test_the_feedback_cadre_attaches_evidence(world, ledger, storage, api_as):
    problem = ledger.make(Problem.Status.CLOSED)

    response = post_files(api_as(world.users[Role.CADRE]),
                          f"/attachments/problems/{problem.pk}/feedback",
                          upload("回访照片.jpg", small_photo()))  # fmt: skip

    assert response.status_code == 201
    assert response.json()[0]["event_label"] == "反馈群众评价"


def test_file_download_is_scoped(world, ledger, storage, api_as):
    problem = ledger.make(Problem.Status.HANDLED)
    [proof] = attachments_add(actor=world.users[Role.UNIT_HANDLER],
                              files=[upload("报告.pdf", pdf_bytes())],
                              event=last_event(problem, Action.HANDLE))  # fmt: skip
    path = f"/attachments/{proof.pk}"
    outsider = make_user(Role.TOWN_ADMIN, world.other_town)

    inside = api_as(world.users[Role.LEADER]).get(path)
    outside = api_as(outsider).get(path)

    assert inside.status_code == 200
    assert inside["Content-Disposition"] == "attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf"
    assert b"".join(inside.streaming_content) == pdf_bytes()
    assert outside.status_code == 404
    assert outside.json()["detail"] == "请求的对象不存在或不在您的管辖范围内"
    assert api_as(world.users[Role.LEADER]).get("/attachments/999999").status_code == 404


def test_the_lists_of_a_problem_and_its_concern(
    world, concern, storage, api_as, django_assert_num_queries
):
    # Given photos on a concern that is then filed and dispatched to the police, and the
    # police's proof on its 办结
    cadre, unit = world.users[Role.CADRE], world.users[Role.UNIT_HANDLER]
    attachments_add(actor=cadre, files=[upload("1.jpg", small_photo()),
                                        upload("2.jpg", small_photo())], concern=concern)  # fmt: skip
    result = concern_triage(
        actor=world.users[Role.TOWN_ADMIN],
        decision=Decision(concern.pk, concern.version, Concern.Outcome.FILE,
                          unit_id=world.police.pk, severity="general"),
    )  # fmt: skip
    problem = Problem.objects.get(pk=result.problem_id)
    ledger = Ledger(world, None, world.users)
    ledger.act(problem, Action.HANDLE, Role.UNIT_HANDLER, ActionInput(result="已修复"))
    attachments_add(actor=unit, files=[upload("3.pdf", pdf_bytes())],
                    event=last_event(problem, Action.HANDLE))  # fmt: skip
    api = api_as(unit)
    api.get("/me")  # the token's first use stamps it

    # When the unit lists the problem's attachments
    with django_assert_num_queries(3):  # the token with its user, the problem's scope, the list
        listed = api.get(f"/attachments/problems/{problem.pk}")

    # Then it sees the resident's photos and its own proof; the concern itself stays hidden
    assert listed.status_code == 200
    assert [(a["name"], a["concern_id"], a["event_action"]) for a in listed.json()] == [
        ("1.jpg", concern.pk, ""), ("2.jpg", concern.pk, ""), ("3.pdf", None, "handle")]  # fmt: skip
    assert api.get(f"/attachments/concerns/{concern.pk}").status_code == 404
    town = api_as(world.users[Role.TOWN_ADMIN]).get(f"/attachments/concerns/{concern.pk}")
    assert [a["name"] for a in town.json()] == ["1.jpg", "2.jpg"]


def test_openapi_documents_the_uploads(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]

    upload_op = paths["/api/v1/attachments/concerns/{concern_id}"]["post"]
    body = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["properties"]["files"]["items"] == {"type": "string", "format": "binary"}
    assert set(upload_op["responses"]) >= {"201", "403", "404", "413", "422"}
    assert "post" in paths["/api/v1/attachments/events/{event_id}"]
    assert "post" in paths["/api/v1/attachments/problems/{problem_id}/{action}"]
    assert "get" in paths["/api/v1/attachments/problems/{problem_id}"]
    file_op = paths["/api/v1/attachments/{attachment_id}"]["get"]
    assert "image/jpeg" in file_op["responses"]["200"]["content"]
    assert reverse("api:attachment_file", kwargs={"attachment_id": 7}) == "/api/v1/attachments/7"
