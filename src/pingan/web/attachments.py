"""Attachments on the back-office pages (issue 12): one attachment's file, served only to
whoever may see its owner, and the upload of photos or files onto a concern.

Thin: `ledger.attachments` checks, re-encodes, stores and scopes. A file outside the user's
scope is 404, as if it did not exist. The upload answers with a redirect back to the page it
came from and a Chinese message, whether it was taken or refused (nothing is kept then); a
role that may not attach at all gets 403.

The include `web/_attachments.html` lists attachments (thumbnails for images, through the
same scoped view) and `web/_attachment_form.html` is the upload form for a concern.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.ledger.attachments import (
    AttachmentError,
    AttachmentForbidden,
    attachment_get,
    attachment_response,
    attachments_add,
    concern_get_for_attachments,
)
from pingan.web.views import AuthenticatedRequest


@login_required
@require_GET
def attachment(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """/attachments/<id>/: the stored file. Images open in the browser (the page's
    thumbnails use this too); other files download. Never cached, never sniffed."""
    found = attachment_get(user=request.user, attachment_id=pk)
    return attachment_response(found)


@login_required
@require_POST
def concern_attach(request: AuthenticatedRequest, concern_id: int) -> HttpResponseRedirect:
    """POST /concerns/<id>/attachments/ (multipart, field `files`): attach to a concern not
    yet triaged, then back to the page (`next`, else the referring page)."""
    concern = concern_get_for_attachments(user=request.user, concern_id=concern_id)
    try:
        added = attachments_add(
            actor=request.user, files=request.FILES.getlist("files"), concern=concern
        )
    except AttachmentForbidden:
        raise  # the role may not: 403
    except AttachmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已上传 %(count)d 个附件。") % {"count": len(added)})
    return HttpResponseRedirect(_back(request))


def _back(request: AuthenticatedRequest) -> str:
    """Where to go after an upload: the form's `next`, else the page it was sent from (on
    this site only), else the home page."""
    for target in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
    return reverse("web:home")
