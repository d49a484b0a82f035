"""Attachments on the pages: the scoped file view (per role; outside the scope 404), its
headers, the upload onto a concern, and the include that lists attachments."""

import io

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image

from pingan.accounts.models import Role
from pingan.ledger.attachments import attachments_add
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Attachment, Problem
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


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


# ---------------------------------------------------------------------------------------------
# The file view


def test_a_photo_is_shown_inline_with_safe_headers(world, concern, storage, login):
    [photo] = attachments_add(
        actor=world.users[Role.CADRE],
        files=[upload("村口路灯.jpg", photo_with_gps((800, 600), orientation=1))],
        concern=concern,
    )

    response = login(world.users[Role.VILLAGE_ADMIN]).get(
        reverse("web:attachment", args=[photo.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == (
        "inline; filename*=utf-8''%E6%9D%91%E5%8F%A3%E8%B7%AF%E7%81%AF.jpg"
    )
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    body = _content(response)
    assert int(response["Content-Length"]) == len(body) == photo.size
    assert body == storage.open(photo.storage_name).read()


def test_a_document_downloads_under_its_chinese_name(world, ledger, storage, login):
    problem = ledger.make(Problem.Status.HANDLED)
    [report] = attachments_add(
        actor=world.users[Role.UNIT_HANDLER],
        files=[upload("整改报告.pdf", pdf_bytes())],
        event=last_event(problem, Action.HANDLE),
    )

    response = login(world.users[Role.TOWN_ADMIN]).get(reverse("web:attachment", args=[report.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf"
    )
    assert _content(response) == pdf_bytes()


def test_who_may_download_per_role(world, concern, ledger, storage, client):
    # Given a resident's photo on the concern and the unit's proof on a handled problem
    [photo] = attachments_add(actor=world.users[Role.CADRE],
                              files=[upload("a.jpg", small_photo())], concern=concern)  # fmt: skip
    problem = ledger.make(Problem.Status.HANDLED)
    [proof] = attachments_add(actor=world.users[Role.UNIT_HANDLER],
                              files=[upload("b.pdf", pdf_bytes())],
                              event=last_event(problem, Action.HANDLE))  # fmt: skip
    users = {**world.users, "other_town": make_user(Role.TOWN_ADMIN, world.other_town),
             "other_cadre": make_user(Role.CADRE, world.qiying)}  # fmt: skip

    # When each downloads both
    answers = {}
    for who, user in users.items():
        client.force_login(user)
        answers[who] = tuple(
            client.get(reverse("web:attachment", args=[a.pk])).status_code for a in (photo, proof)
        )

    # Then the concern's scope decides the photo, the problem's the proof; elsewhere 404
    assert answers == {
        Role.TOWN_ADMIN: (200, 200),
        Role.LEADER: (200, 200),
        Role.VILLAGE_ADMIN: (200, 200),
        Role.CADRE: (200, 200),
        Role.UNIT_HANDLER: (404, 200),
        Role.COUNTY_VIEWER: (200, 200),
        "other_town": (404, 404),
        "other_cadre": (404, 404),
    }


def test_an_unknown_attachment_is_404_and_signing_in_is_required(world, client, login):
    url = reverse("web:attachment", args=[999])
    assert client.get(url).status_code == 302  # to the login page
    assert login(world.users[Role.TOWN_ADMIN]).get(url).status_code == 404


# ---------------------------------------------------------------------------------------------
# Upload onto a concern


def test_upload_onto_a_concern_and_back_to_the_page(world, concern, storage, login):
    client = login(world.users[Role.CADRE])
    back = reverse("web:home") + "?from=concern"

    response = client.post(
        reverse("web:concern_attach", args=[concern.pk]),
        {"files": [upload("现场.jpg", small_photo()), upload("说明.pdf", pdf_bytes())],
         "next": back},
    )  # fmt: skip

    assert response.status_code == 302
    assert response.url == back
    assert _messages(response) == ["已上传 2 个附件。"]
    assert [a.name for a in Attachment.objects.filter(concern=concern)] == ["现场.jpg", "说明.pdf"]
    assert len(stored_names(storage)) == 2


def test_a_refused_upload_says_why_and_keeps_nothing(world, concern, storage, login):
    client = login(world.users[Role.CADRE])

    response = client.post(
        reverse("web:concern_attach", args=[concern.pk]),
        {"files": [upload("好.jpg", small_photo()), upload("假.jpg", pdf_bytes())]},
        HTTP_REFERER="http://testserver/ledger/",
    )

    assert response.status_code == 302
    assert response.url == "http://testserver/ledger/"
    assert _messages(response) == ["「假.jpg」不是有效的图片（文件内容与扩展名不符或已损坏）"]
    assert not Attachment.objects.exists()
    assert stored_names(storage) == set()


def test_no_file_chosen(world, concern, storage, login):
    response = login(world.users[Role.CADRE]).post(
        reverse("web:concern_attach", args=[concern.pk]), {}
    )

    assert response.status_code == 302
    assert response.url == reverse("web:home")
    assert _messages(response) == ["请选择要上传的照片或文件"]


def test_never_sent_back_to_another_site(world, concern, storage, login):
    response = login(world.users[Role.CADRE]).post(
        reverse("web:concern_attach", args=[concern.pk]),
        {"files": [upload("a.pdf", pdf_bytes())], "next": "https://evil.example/"},
        HTTP_REFERER="https://evil.example/x",
    )

    assert response.url == reverse("web:home")


@pytest.mark.parametrize(
    ("who", "status"),
    [(Role.LEADER, 403), (Role.COUNTY_VIEWER, 403), (Role.UNIT_HANDLER, 404), ("other", 404)],
)
def test_others_may_not_upload(world, concern, storage, login, who, status):
    user = make_user(Role.CADRE, world.qiying) if who == "other" else world.users[who]

    response = login(user).post(
        reverse("web:concern_attach", args=[concern.pk]), {"files": [upload("a.pdf", pdf_bytes())]}
    )

    assert response.status_code == status
    assert stored_names(storage) == set()


def test_upload_takes_post_only(world, concern, login):
    url = reverse("web:concern_attach", args=[concern.pk])
    assert login(world.users[Role.CADRE]).get(url).status_code == 405


# ---------------------------------------------------------------------------------------------
# The includes


def test_the_list_include_shows_thumbnails_and_links(world, concern, storage):
    photo, document = attachments_add(
        actor=world.users[Role.CADRE],
        files=[upload("现场.jpg", small_photo()), upload("说明.pdf", pdf_bytes())],
        concern=concern,
    )

    html = render_to_string("web/_attachments.html", {"attachments": [photo, document]})

    photo_url = reverse("web:attachment", args=[photo.pk])
    assert f'<img src="{photo_url}" alt="现场.jpg"' in html
    assert f'<a href="{reverse("web:attachment", args=[document.pk])}">说明.pdf</a>' in html
    assert render_to_string("web/_attachments.html", {"attachments": []}).strip() == ""
    assert "无附件" in render_to_string("web/_attachments.html", {"show_empty": True})


def test_the_upload_form_include_posts_files_to_the_concern(world, concern, rf):
    request = rf.get("/ledger/triage/?page=2")
    html = render_to_string("web/_attachment_form.html", {"concern": concern}, request=request)

    assert f'action="{reverse("web:concern_attach", args=[concern.pk])}"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="files" multiple' in html
    assert 'name="next" value="/ledger/triage/?page=2"' in html


def test_a_thumbnail_is_a_real_image(world, concern, storage, login):
    [photo] = attachments_add(actor=world.users[Role.CADRE],
                              files=[upload("a.png", small_photo())], concern=concern)  # fmt: skip

    response = login(world.users[Role.CADRE]).get(reverse("web:attachment", args=[photo.pk]))

    assert Image.open(io.BytesIO(_content(response))).size == (64, 48)
