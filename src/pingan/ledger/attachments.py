"""Attachments (附件, issue 12): a photo or file on a concern (反映), on the unit's 办结 (proof
of handling) and on the visiting cadre's feedback (反馈群众评价).

Who may attach:
- to a concern not yet triaged: whoever reports concerns (town center, village admin, cadre)
  and can see it;
- to a `handle` event: the unit handler who handled the problem (the event's actor);
- to a `feedback` event: the cadre or village admin who recorded it (the event's actor).

Who may see an attachment: whoever can see its owner — the concern (`concern_list`) or the
problem of the event (`problem_list`) — and whoever can see a problem a concern was filed
or joined into (the unit that handles it sees the resident's photos). Outside that, 404.

Every file is judged by its bytes, never its name alone: an image must decode with Pillow,
a PDF must start as one, docx/xlsx must be the Office zip they claim, text must be text.
Images are turned upright (`exif_transpose`), scaled to `IMAGE_LONG_SIDE` at most and saved
anew from bare pixels, so no EXIF (GPS, phone model, time), XMP or comment survives.

All or nothing: every file is checked and re-encoded before anything is written; the bytes
then go to the `attachments` storage and the rows to the database in one transaction, and a
failure deletes what was already stored. A transaction of the caller's that rolls back after
the service returned cannot tell us so (Django has no on-rollback hook): the files it leaves
behind have no row, and `attachment_orphans_delete` removes them later.
"""

import datetime as dt
import hashlib
import io
import logging
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from pingan.accounts.models import User
from pingan.core import clock
from pingan.ledger.lifecycle import Action, LedgerError
from pingan.ledger.models import Attachment, Problem, ProblemConcern, ProblemEvent
from pingan.ledger.selectors import problem_list, problem_scope_q
from pingan.visits.concerns import REPORTER_ROLES
from pingan.visits.models import Concern
from pingan.visits.selectors import concern_list, concern_scope_q

logger = logging.getLogger(__name__)

MAX_PER_OWNER = 9
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # one file as sent, image or not
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // (1024 * 1024)
IMAGE_LONG_SIDE = 2000  # px, after re-encoding
IMAGE_STORED_MAX = 4 * 1024 * 1024  # a re-encoded image is never larger than this
# Pixels an image may claim before it is decoded. A JPEG is decoded at a reduced scale
# (`Image.draft`), so a 108-megapixel phone photo costs little; other formats decode whole.
JPEG_MAX_PIXELS = 120_000_000
IMAGE_MAX_PIXELS = 30_000_000
NAME_MAX = 200
ORPHAN_AGE = dt.timedelta(days=1)

EVENT_ACTIONS = {Action.HANDLE: "办结", Action.FEEDBACK: "反馈"}

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
HEIF_EXTENSIONS = frozenset({".heic", ".heif"})
FILE_EXTENSIONS = frozenset({".pdf", ".docx", ".xlsx", ".txt"})
# What Pillow decoded → what it may be (the extension's family is only a first hint).
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")

ALLOWED_TYPES = "图片（JPG、PNG、WebP）或 PDF、Word（.docx）、Excel（.xlsx）、文本（.txt）文件"
HEIC_ADVICE = (
    "暂不支持苹果手机的 HEIC 格式照片：请在手机“设置 › 相机 › 格式”中选择“兼容性最佳”后重拍，"
    "或截图后上传"
)


class AttachmentError(LedgerError):
    """An upload refused for its content or the owner's state (422); `message` is Chinese
    and `field` names the form or API field (`files` unless said otherwise)."""

    def __init__(self, message: str, field: str = "files") -> None:
        super().__init__(message, field=field)


class AttachmentForbidden(AttachmentError, PermissionDenied):
    """The user sees the owner but may not attach to it (403)."""

    status = 403


@dataclass(frozen=True)
class Prepared:
    """One checked file, ready to store: the bytes to keep and what the row says of them."""

    name: str
    kind: str
    content_type: str
    extension: str
    data: bytes


# ---------------------------------------------------------------------------------------------
# The service


def attachments_add(
    *,
    actor: User,
    files: Sequence[UploadedFile | Prepared],
    concern: Concern | None = None,
    event: ProblemEvent | None = None,
) -> list[Attachment]:
    """Attach `files` to exactly one owner, a concern or a problem event, all or nothing.

    `files` are uploads (`request.FILES.getlist("files")`, django-ninja's UploadedFile), or
    what `attachments_prepare` made of them: a form that writes more than the files (办结,
    feedback) prepares them first, so a refused file is known before anything is written and
    the decoding does not happen while its transaction holds the rows.

    Raises Http404 when the actor cannot see the owner, AttachmentForbidden (403) when they
    see it but may not attach, AttachmentError (422) for the owner's state (a triaged concern)
    and for any file refused: too large, not of an allowed type, not what its name says, or
    more than `MAX_PER_OWNER` on the owner. Nothing is written unless every file passes.

    Decoding and re-encoding happen before the transaction opens, so the rows stay locked
    (and SQLite's write lock held) only while the files are stored and the rows written."""
    if (concern is None) == (event is None):
        raise ValueError("attachments_add: give exactly one of concern or event")
    _owner_check(actor=actor, concern=concern, event=event)
    if not files:
        raise AttachmentError("请选择要上传的照片或文件")
    _count_check(len(files), concern=concern, event=event)
    prepared = attachments_prepare(files)
    with transaction.atomic():
        if concern is not None:
            concern = Concern.objects.select_for_update(of=("self",)).get(pk=concern.pk)
        else:
            assert event is not None  # noqa: S101 - one of the two, checked above
            Problem.objects.select_for_update(of=("self",)).filter(pk=event.problem_id).first()
            event = ProblemEvent.objects.get(pk=event.pk)
        # Again under the lock: triage or another upload may have come in meanwhile.
        _owner_check(actor=actor, concern=concern, event=event)
        _count_check(len(prepared), concern=concern, event=event)
        return _store(actor=actor, prepared=prepared, concern=concern, event=event)


def attachments_prepare(files: Sequence[UploadedFile | Prepared]) -> list[Prepared]:
    """Check and re-encode every file, writing nothing: raises AttachmentError (422) on the
    first one refused. Already prepared items pass through."""
    return [f if isinstance(f, Prepared) else _prepare(f) for f in files]


def _store(
    *,
    actor: User,
    prepared: list[Prepared],
    concern: Concern | None,
    event: ProblemEvent | None,
) -> list[Attachment]:
    storage = attachment_storage()
    now = clock.now()
    stored: list[str] = []
    try:
        rows = []
        for item in prepared:
            wanted = f"{clock.local(now):%Y/%m}/{uuid.uuid4().hex}{item.extension}"
            name = storage.save(wanted, ContentFile(item.data))
            stored.append(name)
            rows.append(
                Attachment(
                    concern=concern,
                    event=event,
                    problem_id=event.problem_id if event is not None else None,
                    kind=item.kind,
                    name=item.name,
                    content_type=item.content_type,
                    size=len(item.data),
                    sha256=hashlib.sha256(item.data).hexdigest(),
                    storage_name=name,
                    uploaded_by=actor,
                    uploaded_at=now,
                )
            )
        return Attachment.objects.bulk_create(rows)
    except BaseException:
        _delete_quietly(storage, stored)
        raise


def _delete_quietly(storage: Storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("attachment file %s could not be deleted", name, exc_info=True)


def attachment_storage() -> Storage:
    """The `attachments` storage of settings.STORAGES (default storage if none is set)."""
    if "attachments" in settings.STORAGES:
        return storages["attachments"]
    return default_storage


# ---------------------------------------------------------------------------------------------
# Who may attach, and how many


def _owner_check(*, actor: User, concern: Concern | None, event: ProblemEvent | None) -> None:
    if concern is not None:
        if not concern_list(user=actor).filter(pk=concern.pk).exists():
            raise Http404("concern not found")
        if actor.role not in REPORTER_ROLES:
            raise AttachmentForbidden("您的角色无权为群众反映上传附件")
        if concern.triaged:
            raise AttachmentError(
                f"该反映已梳理为「{concern.get_outcome_display()}」，不能再添加附件"
            )
        return
    assert event is not None  # noqa: S101
    if not problem_list(user=actor).filter(pk=event.problem_id).exists():
        raise Http404("problem not found")
    if event.action not in EVENT_ACTIONS:
        raise AttachmentError("只能为办结或反馈群众评价的记录上传附件")
    if event.actor_id != actor.pk:
        raise AttachmentForbidden(
            "只有办结该问题的单位经办人可以上传办结材料"
            if event.action == Action.HANDLE
            else "只有记录该次反馈的干部可以上传反馈材料"
        )


def _count_check(adding: int, *, concern: Concern | None, event: ProblemEvent | None) -> None:
    owner = Q(concern=concern) if concern is not None else Q(event=event)
    existing = Attachment.objects.filter(owner).count()
    if existing + adding > MAX_PER_OWNER:
        left = MAX_PER_OWNER - existing
        more = f"本次最多还能上传 {left} 个" if left > 0 else "不能再上传"
        raise AttachmentError(f"每项最多 {MAX_PER_OWNER} 个附件，已有 {existing} 个，{more}")


# ---------------------------------------------------------------------------------------------
# Checking and re-encoding one file


def clean_name(raw: str | None) -> str:
    """The uploader's file name, kept for display and download only (never a path): its last
    component, without control characters, at most `NAME_MAX` characters with its extension."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C"
    )
    name = name.strip().strip(".") or "附件"
    if len(name) > NAME_MAX:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: NAME_MAX - len(suffix)] + suffix
    return name


def _shown(name: str) -> str:
    return name if len(name) <= 40 else name[:37] + "…"


def _prepare(upload: UploadedFile) -> Prepared:
    name = clean_name(upload.name)
    shown = _shown(name)
    extension = PurePosixPath(name.lower()).suffix
    if extension not in IMAGE_EXTENSIONS | HEIF_EXTENSIONS | FILE_EXTENSIONS:
        raise AttachmentError(f"「{shown}」的类型不支持，只能上传{ALLOWED_TYPES}")
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise AttachmentError(f"「{shown}」超过 {MAX_UPLOAD_MB} MB，请压缩后再上传")
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise AttachmentError(f"「{shown}」超过 {MAX_UPLOAD_MB} MB，请压缩后再上传")
    if not data:
        raise AttachmentError(f"「{shown}」是空文件")
    if _is_heif(data):
        raise AttachmentError(f"「{shown}」：{HEIC_ADVICE}")
    if extension in IMAGE_EXTENSIONS | HEIF_EXTENSIONS:
        return _image(name, shown, data)
    return _document(name, shown, extension, data)


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def _image(name: str, shown: str, data: bytes) -> Prepared:
    not_image = AttachmentError(f"「{shown}」不是有效的图片（文件内容与扩展名不符或已损坏）")
    with warnings.catch_warnings():
        # Our own pixel limits below apply; Pillow's warning would only repeat them.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data), formats=sorted(IMAGE_FORMATS))
            limit = JPEG_MAX_PIXELS if image.format == "JPEG" else IMAGE_MAX_PIXELS
            too_many = image.width * image.height > limit
            if not too_many:
                if image.format == "JPEG":
                    image.draft("RGB", (IMAGE_LONG_SIDE, IMAGE_LONG_SIDE))
                image.load()
        except Image.DecompressionBombError as exc:
            raise AttachmentError(f"「{shown}」的像素过多，请缩小后再上传") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise not_image from exc
    if too_many:
        raise AttachmentError(f"「{shown}」的像素过多，请缩小后再上传")
    icc = image.info.get("icc_profile")
    alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if alpha else "RGB"
    try:
        ImageOps.exif_transpose(image, in_place=True)
        if image.mode != mode:
            image = image.convert(mode)
    except (OSError, ValueError) as exc:
        raise AttachmentError(f"「{shown}」无法处理，请换一张或截图后上传") from exc
    image = _srgb(image, icc)
    image.thumbnail((IMAGE_LONG_SIDE, IMAGE_LONG_SIDE), Image.Resampling.LANCZOS)
    # Bare pixels into a new image: no info, EXIF, XMP, ICC or text chunk can ride along.
    bare = Image.frombytes(mode, image.size, image.tobytes())
    stem = PurePosixPath(name).stem or "图片"
    for fmt, encoded in _encodings(bare, alpha):
        if len(encoded) <= IMAGE_STORED_MAX:
            extension = ".png" if fmt == "PNG" else ".jpg"
            return Prepared(
                name=clean_name(stem + extension),
                kind=Attachment.Kind.IMAGE,
                content_type="image/png" if fmt == "PNG" else "image/jpeg",
                extension=extension,
                data=encoded,
            )
    raise AttachmentError(f"「{shown}」压缩后仍然过大，请缩小后再上传")  # pragma: no cover


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """A photo in a wide colour space (Display P3…) converted to sRGB, as the profile is
    dropped with the rest of the metadata; unchanged if it has none or it cannot be read."""
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image


def _encodings(image: Image.Image, alpha: bool):
    """Encodings to try, best first: PNG for transparency, else JPEG; smaller JPEGs after."""
    if alpha:
        yield "PNG", _encode(image, "PNG", optimize=True)
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    yield "JPEG", _encode(image, "JPEG", quality=85, optimize=True)
    yield "JPEG", _encode(image, "JPEG", quality=70, optimize=True)
    smaller = image.copy()
    smaller.thumbnail((IMAGE_LONG_SIDE // 2, IMAGE_LONG_SIDE // 2), Image.Resampling.LANCZOS)
    yield "JPEG", _encode(smaller, "JPEG", quality=70, optimize=True)


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _document(name: str, shown: str, extension: str, data: bytes) -> Prepared:
    mismatch = AttachmentError(f"「{shown}」的内容与扩展名不符，只能上传{ALLOWED_TYPES}")
    if extension == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise mismatch
        content_type = "application/pdf"
    elif extension in (".docx", ".xlsx"):
        part = "word/document.xml" if extension == ".docx" else "xl/workbook.xml"
        names = _zip_names(data)
        if names is None or "[Content_Types].xml" not in names or part not in names:
            raise mismatch
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise AttachmentError(f"「{shown}」含有宏，不能上传")
        content_type = DOCX if extension == ".docx" else XLSX
    else:
        charset = _text_charset(data)
        if charset is None:
            raise mismatch
        content_type = f"text/plain; charset={charset}"
    return Prepared(
        name=name, kind=Attachment.Kind.FILE, content_type=content_type, extension=extension,
        data=data,
    )  # fmt: skip


def _zip_names(data: bytes) -> set[str] | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _text_charset(data: bytes) -> str | None:
    """utf-8 or gb18030 (Windows Notepad in Chinese), if `data` is plain text in either."""
    if b"\x00" in data:
        return None
    for charset in ("utf-8", "gb18030"):
        try:
            text = data.decode("utf-8-sig" if charset == "utf-8" else charset)
        except UnicodeDecodeError:
            continue
        if all(c in "\t\n\r\f" or unicodedata.category(c) != "Cc" for c in text):
            return charset
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Reads, scoped: whoever sees the owner sees its attachments; outside the scope, 404.


def attachment_scope_q(user: User) -> Q | None:
    """The filter on Attachment for this user, or None when they may see none."""
    parts: list[Q] = []
    concerns = concern_scope_q(user)
    if concerns is not None:
        parts.append(Q(concern__in=Concern.objects.filter(concerns).values("pk")))
    problems = problem_scope_q(user)
    if problems is not None:
        visible = Problem.objects.filter(problems).values("pk")
        parts.append(Q(problem__in=visible))
        parts.append(
            Q(concern__in=ProblemConcern.objects.filter(problem__in=visible).values("concern"))
        )
    if not parts:
        return None
    scope = parts[0]
    for part in parts[1:]:
        scope |= part
    return scope


def attachment_list(*, user: User) -> QuerySet[Attachment]:
    scope = attachment_scope_q(user)
    if scope is None:
        return Attachment.objects.none()
    return Attachment.objects.filter(scope)


def attachment_get(*, user: User, attachment_id: int) -> Attachment:
    """One attachment the user may see (Http404 otherwise)."""
    found = attachment_list(user=user).filter(pk=attachment_id).first()
    if found is None:
        raise Http404("attachment not found")
    return found


def attachment_open(attachment: Attachment) -> File:
    """The stored bytes, opened for reading (Http404 if the file has gone missing)."""
    try:
        return attachment_storage().open(attachment.storage_name, "rb")
    except FileNotFoundError as exc:
        logger.error("attachment %s: file %s is missing", attachment.pk, attachment.storage_name)
        raise Http404("attachment file missing") from exc


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as an HTTP response, for the pages and the API alike: its content type, its
    name in `Content-Disposition` (RFC 5987 for Chinese names; images inline, so pages can
    show them, other files as downloads), never cached, never sniffed, and sandboxed so a
    file opened in the browser can run nothing."""
    response = FileResponse(
        attachment_open(attachment),
        as_attachment=attachment.kind != Attachment.Kind.IMAGE,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["Content-Length"] = str(attachment.size)
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


def attachment_list_for_concern(*, user: User, concern_id: int) -> QuerySet[Attachment]:
    """The attachments of a concern the user may see (Http404 otherwise)."""
    if not concern_list(user=user).filter(pk=concern_id).exists():
        raise Http404("concern not found")
    return Attachment.objects.filter(concern_id=concern_id).select_related("uploaded_by")


def attachment_list_for_problem(*, user: User, problem_id: int) -> QuerySet[Attachment]:
    """A problem's attachments (Http404 if the user cannot see it): those of its 办结 and
    feedback events, and those of the concerns filed or joined into it, oldest first, with
    the event (its `action` says which) and the uploader."""
    if not problem_list(user=user).filter(pk=problem_id).exists():
        raise Http404("problem not found")
    concerns = ProblemConcern.objects.filter(problem_id=problem_id).values("concern")
    return Attachment.objects.filter(
        Q(problem_id=problem_id) | Q(concern__in=concerns)
    ).select_related("event", "uploaded_by")


def concern_get_for_attachments(*, user: User, concern_id: int) -> Concern:
    """The concern to attach to, if the user can see it (Http404 otherwise)."""
    found = concern_list(user=user).filter(pk=concern_id).first()
    if found is None:
        raise Http404("concern not found")
    return found


def problem_event_get(*, user: User, event_id: int) -> ProblemEvent:
    """A problem event whose problem the user can see (Http404 otherwise)."""
    visible = problem_list(user=user).values("pk")
    found = ProblemEvent.objects.filter(pk=event_id, problem__in=visible).first()
    if found is None:
        raise Http404("event not found")
    return found


def problem_event_latest(*, user: User, problem_id: int, action: str) -> ProblemEvent:
    """The user's own latest `handle` or `feedback` event on a problem they can see: what a
    client attaches 办结 or feedback material to right after the action (Http404 if none)."""
    if action not in EVENT_ACTIONS:
        raise Http404("no such event")
    visible = problem_list(user=user).values("pk")
    found = (
        ProblemEvent.objects.filter(
            problem_id=problem_id, problem__in=visible, action=action, actor=user
        )
        .order_by("-at", "-id")
        .first()
    )
    if found is None:
        raise Http404("event not found")
    return found


def user_may_attach_to_concern(*, user: User, concern: Concern) -> bool:
    """Whether a page should offer the upload form on a concern the user sees."""
    return user.role in REPORTER_ROLES and not concern.triaged


# ---------------------------------------------------------------------------------------------
# Housekeeping


def attachment_orphans_delete(*, older_than: dt.timedelta = ORPHAN_AGE) -> int:
    """Delete stored files no attachment row names, older than `older_than`: left behind by
    a caller's transaction that rolled back after `attachments_add` stored them, or by a
    process that died between storing and committing. Returns how many were deleted."""
    storage = attachment_storage()
    cutoff = clock.now() - older_than
    deleted = 0
    for batch in _batches(_walk(storage, ""), 500):
        known = set(
            Attachment.objects.filter(storage_name__in=batch).values_list("storage_name", flat=True)
        )
        for name in batch:
            if name in known:
                continue
            try:
                if storage.get_modified_time(name) >= cutoff:
                    continue
            except (FileNotFoundError, NotImplementedError):
                continue
            _delete_quietly(storage, [name])
            deleted += 1
    return deleted


def _walk(storage: Storage, folder: str):
    try:
        folders, names = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        yield f"{folder}/{name}" if folder else name
    for sub in folders:
        yield from _walk(storage, f"{folder}/{sub}" if folder else sub)


def _batches(names, size: int):
    batch: list[str] = []
    for name in names:
        batch.append(name)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
