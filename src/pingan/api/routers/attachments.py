"""The attachments endpoints (附件, issue 12): photos and files on a concern (反映), on a unit's
办结 and on a cadre's feedback; one file; the attachments of a concern or of a problem.

Uploads are multipart (`files`, up to 9 per concern or event, each at most 10 MB). The files
are read by hand rather than through a declared File parameter, so a request larger than nine
files can be is refused (413) before its body is read. Photos come back re-encoded (JPEG or
PNG, long side ≤ 2000 px) without EXIF or GPS. Refusals are in the usual error shape: 404 the
owner is unknown or out of scope, 403 the role may not attach to it, 413 the request is too
large, 422 a file or the owner's state is refused (`errors[0].loc` = `["body", "files"]`)."""

import datetime as dt
from typing import Annotated, Any

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AfterValidator

from pingan.api.schemas import ErrorOut
from pingan.api.security import AuthedRequest
from pingan.core import clock
from pingan.ledger.attachments import (
    EVENT_ACTIONS,
    MAX_PER_OWNER,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    AttachmentError,
    attachment_get,
    attachment_list_for_concern,
    attachment_list_for_problem,
    attachment_response,
    attachments_add,
    concern_get_for_attachments,
    problem_event_get,
    problem_event_latest,
)
from pingan.ledger.lifecycle import EVENT_LABELS
from pingan.ledger.models import Attachment

router = Router(tags=["attachments"])

LocalDateTime = Annotated[dt.datetime, AfterValidator(clock.local)]

# Nine files at the limit and the multipart framing around them.
MAX_REQUEST_BYTES = MAX_PER_OWNER * MAX_UPLOAD_BYTES + 1024 * 1024
TOO_LARGE = f"上传内容过大：每次最多 {MAX_PER_OWNER} 个文件，每个不超过 {MAX_UPLOAD_MB} MB"
NOT_MULTIPART = "请以 multipart/form-data 上传，文件字段名为 files"

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": (
                                f"照片（JPG、PNG、WebP）或 PDF、docx、xlsx、txt 文件，每项最多 "
                                f"{MAX_PER_OWNER} 个，每个不超过 {MAX_UPLOAD_MB} MB；照片会重新编码"
                                "（去除 EXIF、GPS 等信息，长边不超过 2000 像素）"
                            ),
                        }
                    },
                }
            }
        },
    }
}
FILE_BODY: dict[str, Any] = {
    "responses": {
        200: {
            "description": "文件内容（图片 inline，其他文件为下载；Content-Disposition 带中文文件名）",
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}
UPLOAD_ERRORS = {status: ErrorOut for status in (401, 403, 404, 413, 422)}


class AttachmentOut(Schema):
    id: int
    kind: str = Field(description="image（图片）或 file（文件）")
    kind_label: str
    name: str = Field(description="文件名（照片为重新编码后的 .jpg 或 .png）")
    content_type: str
    size: int = Field(description="字节数")
    sha256: str
    concern_id: int | None = Field(description="所属群众反映；附在办结或反馈记录上时为空")
    problem_id: int | None = Field(description="所属问题（办结或反馈材料）")
    event_id: int | None = Field(description="所属流转记录（办结或反馈）")
    event_action: str = Field(
        description="handle（办结）或 feedback（反馈群众评价）；反映的附件为空"
    )
    event_label: str
    uploaded_by: str
    uploaded_at: LocalDateTime
    url: str = Field(description="下载地址（需登录，按权限范围）")

    @staticmethod
    def resolve_kind_label(attachment: Attachment) -> str:
        return attachment.get_kind_display()

    @staticmethod
    def resolve_event_action(attachment: Attachment) -> str:
        return attachment.event.action if attachment.event_id and attachment.event else ""

    @staticmethod
    def resolve_event_label(attachment: Attachment) -> str:
        action = AttachmentOut.resolve_event_action(attachment)
        return EVENT_LABELS.get(action, action)

    @staticmethod
    def resolve_uploaded_by(attachment: Attachment) -> str:
        return str(attachment.uploaded_by)

    @staticmethod
    def resolve_url(attachment: Attachment) -> str:
        return reverse("api:attachment_file", kwargs={"attachment_id": attachment.pk})


def _uploads(request: AuthedRequest) -> list[UploadedFile]:
    """The request's `files`, refusing (before reading the body) one too large to be nine
    files at the limit, and a body that is not multipart."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REQUEST_BYTES:
        raise HttpError(413, TOO_LARGE)
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise AttachmentError(NOT_MULTIPART)
    return request.FILES.getlist("files")


@router.get(
    "/{int:attachment_id}",
    response={401: ErrorOut, 404: ErrorOut},
    summary="下载附件（按权限范围）",
    url_name="attachment_file",
    openapi_extra=FILE_BODY,
)
def attachment_file(request: AuthedRequest, attachment_id: int) -> FileResponse:
    return attachment_response(attachment_get(user=request.auth, attachment_id=attachment_id))


@router.get(
    "/concerns/{int:concern_id}",
    response={200: list[AttachmentOut], 401: ErrorOut, 404: ErrorOut},
    summary="群众反映的附件",
)
def concern_attachments(request: AuthedRequest, concern_id: int):
    return attachment_list_for_concern(user=request.auth, concern_id=concern_id)


@router.get(
    "/problems/{int:problem_id}",
    response={200: list[AttachmentOut], 401: ErrorOut, 404: ErrorOut},
    summary="问题的附件（办结、反馈材料及来源反映的照片）",
)
def problem_attachments(request: AuthedRequest, problem_id: int):
    return attachment_list_for_problem(user=request.auth, problem_id=problem_id)


@router.post(
    "/concerns/{int:concern_id}",
    response={201: list[AttachmentOut]} | UPLOAD_ERRORS,
    summary="为群众反映上传照片或文件（梳理前）",
    openapi_extra=UPLOAD_BODY,
)
def concern_attach(request: AuthedRequest, concern_id: int):
    concern = concern_get_for_attachments(user=request.auth, concern_id=concern_id)
    added = attachments_add(actor=request.auth, files=_uploads(request), concern=concern)
    return Status(201, added)


@router.post(
    "/events/{int:event_id}",
    response={201: list[AttachmentOut]} | UPLOAD_ERRORS,
    summary="为办结或反馈记录上传材料（记录人本人）",
    openapi_extra=UPLOAD_BODY,
)
def event_attach(request: AuthedRequest, event_id: int):
    event = problem_event_get(user=request.auth, event_id=event_id)
    added = attachments_add(actor=request.auth, files=_uploads(request), event=event)
    return Status(201, added)


@router.post(
    "/problems/{int:problem_id}/{action}",
    response={201: list[AttachmentOut]} | UPLOAD_ERRORS,
    summary="为自己最近一次办结（handle）或反馈（feedback）上传材料",
    description=(
        "办结或反馈群众评价（POST /problems/{id}/actions）之后，把材料附到本人在该问题上"
        f"最近一次的该项记录。action 可选：{'、'.join(EVENT_ACTIONS)}。"
    ),
    openapi_extra=UPLOAD_BODY,
)
def problem_attach(request: AuthedRequest, problem_id: int, action: str):
    event = problem_event_latest(user=request.auth, problem_id=problem_id, action=action)
    added = attachments_add(actor=request.auth, files=_uploads(request), event=event)
    return Status(201, added)
