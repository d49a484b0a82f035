"""Attachments (附件): photos lose EXIF and GPS and are scaled down, files are judged by their
bytes, at most nine per owner, all or nothing, and only the right people attach or read.

The helpers at the top (photo and document builders, a fresh storage, a concern) are shared
with the page and API tests."""

import datetime as dt
import io
import re
import zipfile

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from PIL import ExifTags, Image, PngImagePlugin

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.ledger import attachments as service
from pingan.ledger.attachments import (
    IMAGE_LONG_SIDE,
    IMAGE_STORED_MAX,
    MAX_PER_OWNER,
    AttachmentError,
    AttachmentForbidden,
    attachment_get,
    attachment_list,
    attachment_list_for_concern,
    attachment_list_for_problem,
    attachment_orphans_delete,
    attachment_storage,
    attachments_add,
    attachments_prepare,
    problem_event_latest,
)
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Attachment, Problem, ProblemEvent
from pingan.ledger.services import ActionInput, problem_act
from pingan.ledger.triage import Decision, concern_triage
from pingan.visits.concerns import concern_report
from pingan.visits.models import Concern
from tests.factories import UnitFactory, make_user

# Where the photo was taken: 汝集镇, as a phone writes it into EXIF.
LATITUDE = (33.0, 8.0, 30.0)
LONGITUDE = (116.0, 12.0, 45.0)


def photo_with_gps(size=(4000, 3000), *, orientation: int = 6, fmt: str = "JPEG") -> bytes:
    """A phone photo: EXIF with the camera, the time, the orientation and a GPS position,
    plus an XMP packet and a comment (JPEG)."""
    image = Image.new("RGB", size, (180, 40, 40))
    for x in range(0, size[0], 97):  # some detail, so the encoder has work to do
        image.paste((20, 120, 200), (x, 0, x + 13, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 12"
    exif[ExifTags.Base.DateTime] = "2021:10:21 10:00:00"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = LONGITUDE
    out = io.BytesIO()
    extra = {"xmp": b"<x:xmpmeta>exif:GPSLatitude=33,8.5N</x:xmpmeta>", "comment": b"secret"}
    image.save(out, fmt, exif=exif, quality=92, **(extra if fmt == "JPEG" else {}))
    return out.getvalue()


def small_photo() -> bytes:
    return photo_with_gps((64, 48), orientation=1)


def png_with_text_and_alpha() -> bytes:
    image = Image.new("RGBA", (300, 200), (0, 128, 0, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 33.14N 116.21E")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Huawei"
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def office_bytes(part: str, *, macro: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00\x01")
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_names(storage) -> set[str]:
    return set(service._walk(storage, ""))


def fresh_storage(settings):
    """An empty in-memory `attachments` storage for this test only."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return attachment_storage()


def report_concern(world, field, *, text: str = "村口路灯坏了，晚上出行不安全") -> Concern:
    """A phone report by the visiting cadre for one of their households, not yet triaged."""
    return concern_report(
        actor=world.users[Role.CADRE], household_id=field.households[0].pk, text=text
    )


def other_unit_handler(world) -> User:
    """A handler of another unit of the town (司法所), which no problem was dispatched to."""
    unit = UnitFactory(region=world.town, name="汝集司法所")
    return make_user(Role.UNIT_HANDLER, world.town, unit=unit)


def last_event(problem: Problem, action: str) -> ProblemEvent:
    return problem.events.filter(action=action).order_by("-at", "-id")[0]


@pytest.fixture
def storage(settings):
    return fresh_storage(settings)


@pytest.fixture
def concern(world, field) -> Concern:
    return report_concern(world, field)


# ---------------------------------------------------------------------------------------------
# Photos


def test_photo_loses_exif_gps_and_xmp_and_is_scaled_upright(world, concern, storage):
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    [kept] = attachments_add(
        actor=world.users[Role.CADRE],
        files=[upload("IMG_0001.JPG", original, "image/jpeg")],
        concern=concern,
    )

    data = storage.open(kept.storage_name).read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    assert b"Exif" not in data
    assert b"xmpmeta" not in data
    assert b"iPhone" not in data
    # Orientation 6 (the phone held upright) is applied, then the long side capped.
    assert image.size == (IMAGE_LONG_SIDE * 3 // 4, IMAGE_LONG_SIDE)
    assert len(data) <= IMAGE_STORED_MAX
    assert (kept.kind, kept.content_type, kept.name) == ("image", "image/jpeg", "IMG_0001.jpg")
    assert kept.size == len(data)
    assert kept.sha256 == service.hashlib.sha256(data).hexdigest()
    assert kept.concern_id == concern.pk
    assert kept.event_id is None
    assert kept.problem_id is None
    assert kept.uploaded_by == world.users[Role.CADRE]


def test_webp_photo_comes_out_as_jpeg_without_exif(world, concern, storage):
    original = photo_with_gps((800, 600), orientation=1, fmt="WEBP")
    assert Image.open(io.BytesIO(original)).getexif()

    [kept] = attachments_add(
        actor=world.users[Role.CADRE], files=[upload("现场.webp", original)], concern=concern
    )

    image = Image.open(storage.open(kept.storage_name))
    assert (image.format, image.size, dict(image.getexif())) == ("JPEG", (800, 600), {})
    assert kept.name == "现场.jpg"


def test_transparent_png_stays_png_without_its_text_and_exif(world, concern, storage):
    [kept] = attachments_add(
        actor=world.users[Role.VILLAGE_ADMIN],
        files=[upload("截图.png", png_with_text_and_alpha())],
        concern=concern,
    )

    data = storage.open(kept.storage_name).read()
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (300, 200))
    assert dict(image.getexif()) == {}
    assert b"GPS" not in data
    assert b"Huawei" not in data
    assert kept.content_type == "image/png"


def test_non_image_disguised_as_jpg_is_refused(world, concern, storage):
    with pytest.raises(AttachmentError) as refused:
        attachments_add(
            actor=world.users[Role.CADRE],
            files=[upload("照片.jpg", pdf_bytes(), "image/jpeg")],
            concern=concern,
        )

    assert refused.value.message == "「照片.jpg」不是有效的图片（文件内容与扩展名不符或已损坏）"
    assert refused.value.field == "files"
    assert refused.value.status == 422
    assert not Attachment.objects.exists()
    assert stored_names(storage) == set()


def test_truncated_photo_is_refused(world, concern, storage):
    with pytest.raises(AttachmentError, match="不是有效的图片"):
        attachments_add(
            actor=world.users[Role.CADRE],
            files=[upload("a.jpg", photo_with_gps((600, 400))[:2000])],
            concern=concern,
        )
    assert stored_names(storage) == set()


def test_iphone_heic_photo_is_refused_with_advice(world, concern, storage):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    with pytest.raises(AttachmentError, match="兼容性最佳"):
        attachments_add(
            actor=world.users[Role.CADRE], files=[upload("IMG_1.HEIC", heic)], concern=concern
        )


# ---------------------------------------------------------------------------------------------
# Files


def test_documents_kept_as_sent_with_their_type(world, concern, storage):
    files = [
        upload("情况说明.pdf", pdf_bytes()),
        upload("整改报告.docx", office_bytes("word/document.xml")),
        upload("台账.xlsx", office_bytes("xl/workbook.xml")),
        upload("记录.txt", "张三反映路灯不亮\r\n".encode()),
        upload("记事本.txt", "来电记录：路灯".encode("gb18030")),
    ]

    kept = attachments_add(actor=world.users[Role.TOWN_ADMIN], files=files, concern=concern)

    assert [(a.name, a.kind, a.content_type) for a in kept] == [
        ("情况说明.pdf", "file", "application/pdf"),
        ("整改报告.docx", "file", service.DOCX),
        ("台账.xlsx", "file", service.XLSX),
        ("记录.txt", "file", "text/plain; charset=utf-8"),
        ("记事本.txt", "file", "text/plain; charset=gb18030"),
    ]
    for attachment, sent in zip(kept, files, strict=True):
        sent.seek(0)
        assert storage.open(attachment.storage_name).read() == sent.read()
        assert attachment.storage_name.endswith(attachment.name[attachment.name.rindex(".") :])


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("病毒.exe", b"MZ\x90\x00", "「病毒.exe」的类型不支持"),
        ("无扩展名", b"hello", "「无扩展名」的类型不支持"),
        ("报告.docx", b"just some text", "「报告.docx」的内容与扩展名不符"),
        ("报告.docx", office_bytes("xl/workbook.xml"), "「报告.docx」的内容与扩展名不符"),
        ("宏.docx", office_bytes("word/document.xml", macro=True), "「宏.docx」含有宏"),
        ("文件.pdf", b"<html>not a pdf</html>", "「文件.pdf」的内容与扩展名不符"),
        ("二进制.txt", b"\x00\x01\x02binary", "「二进制.txt」的内容与扩展名不符"),
        ("空.pdf", b"", "「空.pdf」是空文件"),
    ],
)
def test_file_refused_by_its_bytes(world, concern, storage, name, data, message):
    with pytest.raises(AttachmentError) as refused:
        attachments_add(actor=world.users[Role.CADRE], files=[upload(name, data)], concern=concern)

    assert refused.value.message.startswith(message)
    assert not Attachment.objects.exists()
    assert stored_names(storage) == set()


def test_file_over_10_mb_is_refused(world, concern, storage):
    big = pdf_bytes() + b"0" * (service.MAX_UPLOAD_BYTES - len(pdf_bytes()) + 1)

    with pytest.raises(AttachmentError, match=re.escape("「大.pdf」超过 10 MB，请压缩后再上传")):
        attachments_add(actor=world.users[Role.CADRE], files=[upload("大.pdf", big)],
                        concern=concern)  # fmt: skip

    exactly = big[:-1]
    [kept] = attachments_add(
        actor=world.users[Role.CADRE], files=[upload("刚好.pdf", exactly)], concern=concern
    )
    assert kept.size == service.MAX_UPLOAD_BYTES


def test_an_image_of_too_many_pixels_is_refused_before_decoding(world, concern, storage):
    image = Image.new("L", (6000, 5001))
    out = io.BytesIO()
    image.save(out, "PNG")

    with pytest.raises(AttachmentError, match="像素过多"):
        attachments_add(
            actor=world.users[Role.CADRE], files=[upload("大图.png", out.getvalue())],
            concern=concern,
        )  # fmt: skip


def test_path_and_control_characters_never_reach_the_name():
    assert service.clean_name("C:\\Users\\张三\\桌面\\说明.pdf") == "说明.pdf"
    assert service.clean_name("../../etc/passwd\x00.txt") == "passwd.txt"
    assert service.clean_name("报告\u202egpj.exe") == "报告gpj.exe"
    assert service.clean_name("") == "附件"
    long = service.clean_name("长" * 300 + ".pdf")
    assert len(long) == service.NAME_MAX
    assert long.endswith(".pdf")


# ---------------------------------------------------------------------------------------------
# How many, and all or nothing


def test_at_most_nine_per_owner(world, concern, storage):
    cadre = world.users[Role.CADRE]
    attachments_add(actor=cadre, files=[upload(f"{n}.pdf", pdf_bytes()) for n in range(5)],
                    concern=concern)  # fmt: skip

    with pytest.raises(AttachmentError) as refused:
        attachments_add(actor=cadre, files=[upload(f"b{n}.pdf", pdf_bytes()) for n in range(5)],
                        concern=concern)  # fmt: skip
    assert refused.value.message == "每项最多 9 个附件，已有 5 个，本次最多还能上传 4 个"
    assert Attachment.objects.count() == 5
    assert len(stored_names(storage)) == 5

    attachments_add(actor=cadre, files=[upload(f"c{n}.pdf", pdf_bytes()) for n in range(4)],
                    concern=concern)  # fmt: skip
    assert Attachment.objects.filter(concern=concern).count() == MAX_PER_OWNER
    with pytest.raises(AttachmentError, match="已有 9 个，不能再上传"):
        attachments_add(actor=cadre, files=[upload("d.pdf", pdf_bytes())], concern=concern)


def test_nothing_chosen_is_refused(world, concern, storage):
    with pytest.raises(AttachmentError, match="请选择要上传的照片或文件"):
        attachments_add(actor=world.users[Role.CADRE], files=[], concern=concern)


def test_one_bad_file_keeps_none(world, concern, storage):
    files = [
        upload("好照片.jpg", small_photo()),
        upload("说明.pdf", pdf_bytes()),
        upload("假照片.jpg", b"GIF89a not really"),
    ]

    with pytest.raises(AttachmentError, match=re.escape("「假照片.jpg」不是有效的图片")):
        attachments_add(actor=world.users[Role.CADRE], files=files, concern=concern)

    assert not Attachment.objects.exists()
    assert stored_names(storage) == set()


def test_a_storage_failure_midway_removes_the_files_already_stored(
    world, concern, storage, monkeypatch
):
    saved: list[str] = []
    original = type(storage).save

    def save_then_fail(self, name, content, max_length=None):
        if saved:
            raise OSError("disk full")
        saved.append(original(self, name, content, max_length))
        return saved[-1]

    monkeypatch.setattr(type(storage), "save", save_then_fail)

    with pytest.raises(OSError, match="disk full"):
        attachments_add(
            actor=world.users[Role.CADRE],
            files=[upload("1.pdf", pdf_bytes()), upload("2.pdf", pdf_bytes())],
            concern=concern,
        )

    assert len(saved) == 1
    assert not Attachment.objects.exists()
    assert stored_names(storage) == set()


def test_a_row_that_cannot_be_written_removes_its_files(world, concern, storage, monkeypatch):
    def fail(*args, **kwargs):
        raise IntegrityError("constraint")

    monkeypatch.setattr(Attachment.objects, "bulk_create", fail)

    with pytest.raises(IntegrityError):
        attachments_add(
            actor=world.users[Role.CADRE], files=[upload("1.pdf", pdf_bytes())], concern=concern
        )

    assert stored_names(storage) == set()


def _attach_then_fail(cadre: User, concern: Concern) -> None:
    """A caller (a form saving more than the files) whose own later step fails."""
    with transaction.atomic():
        attachments_add(actor=cadre, files=[upload("弃.pdf", pdf_bytes())], concern=concern)
        raise RuntimeError("the caller's own step failed")


def test_files_of_a_callers_rolled_back_transaction_are_swept_later(world, concern, storage):
    cadre = world.users[Role.CADRE]
    day = dt.datetime(2021, 10, 21, 10, 0, tzinfo=clock.SHANGHAI)
    with time_machine.travel(day, tick=False):
        [kept] = attachments_add(actor=cadre, files=[upload("留.pdf", pdf_bytes())],
                                 concern=concern)  # fmt: skip
        with pytest.raises(RuntimeError, match="the caller's own step failed"):
            _attach_then_fail(cadre, concern)
    assert Attachment.objects.count() == 1
    assert len(stored_names(storage)) == 2  # the rolled-back file is still there…

    with time_machine.travel(day + dt.timedelta(hours=2), tick=False):
        assert attachment_orphans_delete() == 0  # …younger than a day: perhaps still committing
    with time_machine.travel(day + dt.timedelta(days=2), tick=False):
        assert attachment_orphans_delete() == 1

    assert stored_names(storage) == {kept.storage_name}


def test_the_task_queue_sweeps_orphans_every_night(world, concern, storage):
    from huey.contrib.djhuey import HUEY

    cadre = world.users[Role.CADRE]
    day = dt.datetime(2021, 10, 21, 10, 0, tzinfo=clock.SHANGHAI)
    with time_machine.travel(day, tick=False), pytest.raises(RuntimeError):
        _attach_then_fail(cadre, concern)
    assert len(stored_names(storage)) == 1

    def due(hour: int, minute: int) -> set[str]:  # huey's scheduler clock: naive UTC
        moment = dt.datetime(2021, 10, 22, hour, minute, tzinfo=dt.UTC).replace(tzinfo=None)
        return {task.name for task in HUEY.read_periodic(moment)}

    assert "ledger.attachment_orphans" in due(19, 17)  # 03:17 in Shanghai
    assert "ledger.attachment_orphans" not in due(3, 17)
    with time_machine.travel(day + dt.timedelta(days=2), tick=False):
        for task in HUEY.read_periodic(
            dt.datetime(2021, 10, 22, 19, 17, tzinfo=dt.UTC).replace(tzinfo=None)
        ):
            if task.name == "ledger.attachment_orphans":
                HUEY.execute(task)
    assert stored_names(storage) == set()


def test_the_database_refuses_an_attachment_with_two_owners_or_none(world, concern, ledger):
    problem = ledger.make(Problem.Status.HANDLED)
    event = last_event(problem, Action.HANDLE)
    common = {
        "kind": "file",
        "name": "a.pdf",
        "content_type": "application/pdf",
        "size": 1,
        "sha256": "0" * 64,
        "uploaded_by": world.users[Role.CADRE],
    }
    for n, owners in enumerate(
        [{}, {"concern": concern, "event": event, "problem": problem}, {"event": event}]
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Attachment.objects.create(storage_name=f"x{n}", **common, **owners)


# ---------------------------------------------------------------------------------------------
# Who may attach


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.VILLAGE_ADMIN, Role.CADRE])
def test_reporters_in_scope_attach_to_a_concern(world, concern, storage, role):
    [kept] = attachments_add(
        actor=world.users[role], files=[upload("a.pdf", pdf_bytes())], concern=concern
    )
    assert kept.concern == concern


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        (Role.LEADER, AttachmentForbidden),
        (Role.COUNTY_VIEWER, AttachmentForbidden),
        (Role.UNIT_HANDLER, Http404),
        ("other_town", Http404),
        ("other_cadre", Http404),
    ],
)
def test_others_may_not_attach_to_a_concern(world, concern, storage, who, refusal):
    users = {
        **world.users,
        "other_town": make_user(Role.TOWN_ADMIN, world.other_town),
        "other_cadre": make_user(Role.CADRE, world.qiying),
    }

    with pytest.raises(refusal):
        attachments_add(actor=users[who], files=[upload("a.pdf", pdf_bytes())], concern=concern)

    assert not Attachment.objects.exists()
    assert stored_names(storage) == set()


def test_no_attachment_once_the_concern_is_triaged(world, concern, storage):
    concern_triage(
        actor=world.users[Role.TOWN_ADMIN],
        decision=Decision(concern.pk, concern.version, Concern.Outcome.DECLINE, reason="重复反映"),
    )
    concern.refresh_from_db()

    with pytest.raises(AttachmentError, match="该反映已梳理为「不予立案」，不能再添加附件"):
        attachments_add(
            actor=world.users[Role.CADRE], files=[upload("a.pdf", pdf_bytes())], concern=concern
        )


def test_the_handling_unit_attaches_proof_to_its_handle_event(world, ledger, storage):
    problem = ledger.make(Problem.Status.HANDLED)
    handled = last_event(problem, Action.HANDLE)
    colleague = make_user(Role.UNIT_HANDLER, world.town, unit=world.police)

    [proof] = attachments_add(
        actor=world.users[Role.UNIT_HANDLER],
        files=[upload("修好的路灯.jpg", small_photo())],
        event=handled,
    )
    assert (proof.event, proof.problem, proof.concern) == (handled, problem, None)

    with pytest.raises(AttachmentForbidden, match="只有办结该问题的单位经办人可以上传办结材料"):
        attachments_add(actor=colleague, files=[upload("a.pdf", pdf_bytes())], event=handled)
    with pytest.raises(AttachmentForbidden):
        attachments_add(actor=world.users[Role.TOWN_ADMIN], files=[upload("a.pdf", pdf_bytes())],
                        event=handled)  # fmt: skip
    with pytest.raises(Http404):
        attachments_add(actor=other_unit_handler(world), files=[upload("a.pdf", pdf_bytes())],
                        event=handled)  # fmt: skip


def test_the_feedback_cadre_attaches_to_the_feedback_event(world, ledger, storage):
    problem = ledger.make(Problem.Status.CLOSED)
    feedback = last_event(problem, Action.FEEDBACK)

    [kept] = attachments_add(
        actor=world.users[Role.CADRE], files=[upload("回访.jpg", small_photo())], event=feedback
    )
    assert kept.event == feedback

    with pytest.raises(AttachmentForbidden, match="只有记录该次反馈的干部可以上传反馈材料"):
        attachments_add(actor=world.users[Role.VILLAGE_ADMIN],
                        files=[upload("a.pdf", pdf_bytes())], event=feedback)  # fmt: skip


def test_only_handle_and_feedback_events_take_attachments(world, ledger, storage):
    problem = ledger.make(Problem.Status.ACCEPTED)
    accepted = last_event(problem, Action.ACCEPT)

    with pytest.raises(AttachmentError, match="只能为办结或反馈群众评价的记录上传附件"):
        attachments_add(actor=world.users[Role.TOWN_ADMIN], files=[upload("a.pdf", pdf_bytes())],
                        event=accepted)  # fmt: skip


def test_a_form_checks_its_files_before_acting_then_saves_both_at_once(world, ledger, storage):
    # Given a dispatched problem and the unit's 办结 form with a photo of the repair
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = world.users[Role.UNIT_HANDLER]
    with pytest.raises(AttachmentError, match="不是有效的图片"):
        attachments_prepare([upload("假.jpg", pdf_bytes())])  # refused before anything is done
    prepared = attachments_prepare([upload("修好的路灯.jpg", small_photo())])

    # When the form handles the problem and attaches the proof in one transaction
    with transaction.atomic():
        handled = problem_act(actor=unit, problem_id=problem.pk, action=Action.HANDLE,
                              version=problem.version, data=ActionInput(result="已修复"))  # fmt: skip
        event = problem_event_latest(user=unit, problem_id=problem.pk, action=Action.HANDLE)
        [proof] = attachments_add(actor=unit, files=prepared, event=event)

    # Then the proof hangs on that 办结
    assert handled.status == Problem.Status.HANDLED
    assert (proof.event, proof.name) == (last_event(problem, Action.HANDLE), "修好的路灯.jpg")
    assert stored_names(storage) == {proof.storage_name}


def test_exactly_one_owner_is_a_programming_rule(world, concern):
    with pytest.raises(ValueError, match="exactly one"):
        attachments_add(actor=world.users[Role.CADRE], files=[])


# ---------------------------------------------------------------------------------------------
# Who may read


def _readers(world) -> dict[str, User]:
    return {**world.users, "other_town": make_user(Role.TOWN_ADMIN, world.other_town),
            "other_cadre": make_user(Role.CADRE, world.qiying)}  # fmt: skip


def _sees(user: User, attachment: Attachment) -> bool:
    try:
        attachment_get(user=user, attachment_id=attachment.pk)
    except Http404:
        return False
    return attachment_list(user=user).filter(pk=attachment.pk).exists()


def test_concern_attachments_are_read_in_the_concerns_scope(world, concern, storage):
    [photo] = attachments_add(
        actor=world.users[Role.CADRE], files=[upload("a.jpg", small_photo())], concern=concern
    )

    seen = {who for who, user in _readers(world).items() if _sees(user, photo)}

    assert seen == {Role.TOWN_ADMIN, Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE,
                    Role.COUNTY_VIEWER}  # fmt: skip
    assert list(attachment_list_for_concern(user=world.users[Role.LEADER],
                                            concern_id=concern.pk)) == [photo]  # fmt: skip
    with pytest.raises(Http404):
        attachment_list_for_concern(user=world.users[Role.UNIT_HANDLER], concern_id=concern.pk)


def test_the_unit_sees_the_photos_of_the_concern_filed_to_it(world, concern, storage):
    [photo] = attachments_add(
        actor=world.users[Role.CADRE], files=[upload("a.jpg", small_photo())], concern=concern
    )
    result = concern_triage(
        actor=world.users[Role.TOWN_ADMIN],
        decision=Decision(concern.pk, concern.version, Concern.Outcome.FILE,
                          unit_id=world.police.pk, severity="general"),
    )  # fmt: skip
    unit = world.users[Role.UNIT_HANDLER]

    assert _sees(unit, photo)
    listed = attachment_list_for_problem(user=unit, problem_id=result.problem_id)
    assert list(listed) == [photo]
    assert not _sees(other_unit_handler(world), photo)  # a unit with no problem


def test_event_attachments_are_read_in_the_problems_scope(world, ledger, storage):
    problem = ledger.make(Problem.Status.HANDLED)
    [proof] = attachments_add(
        actor=world.users[Role.UNIT_HANDLER],
        files=[upload("a.pdf", pdf_bytes())],
        event=last_event(problem, Action.HANDLE),
    )

    seen = {who for who, user in _readers(world).items() if _sees(user, proof)}

    # The cadre who reported it takes the result back; another cadre of the village does not.
    assert seen == {Role.TOWN_ADMIN, Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE,
                    Role.UNIT_HANDLER, Role.COUNTY_VIEWER}  # fmt: skip
    listed = attachment_list_for_problem(user=world.users[Role.CADRE], problem_id=problem.pk)
    assert [(a.pk, a.event.action) for a in listed] == [(proof.pk, "handle")]
    with pytest.raises(Http404):
        attachment_list_for_problem(user=_readers(world)["other_town"], problem_id=problem.pk)
