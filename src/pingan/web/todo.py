"""待办: everything waiting for the signed-in user, per role (`ledger.queue` says which
sections each role owns and what each holds), and the count the header shows beside 待办.

The page lists each section the user owns with its count and its first rows (the oldest or
most urgent first); `?section=<key>` opens one section in full, 50 a page. The town center's
untriaged concerns are a count and a link to the triage queue; the town center may also open
the leader's extension requests (`?section=extensions`) to follow them.

The counts of every section come from one query, which the header's badges share (counted
once per request, `request_todo_counts`).
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.queue import (
    SECTION_BY_KEY,
    TodoCounts,
    section_rows,
    section_visible,
    sections_for,
    todo_counts,
)
from pingan.web.views import AuthenticatedRequest

SECTION_PREVIEW = 20  # rows of each section on the whole page
ROWS_PER_PAGE = 50  # rows of one section opened in full
TODO_ROLES = frozenset(
    {Role.TOWN_ADMIN, Role.LEADER, Role.UNIT_HANDLER, Role.VILLAGE_ADMIN, Role.CADRE}
)

# Section titles (Chinese in `ledger.queue`), marked for the English catalogue.
TITLES = (
    gettext_noop("待梳理的群众反映"),
    gettext_noop("待受理的问题"),
    gettext_noop("已受理待交办的问题"),
    gettext_noop("被退回待重新交办的问题"),
    gettext_noop("超期待督办的问题"),
    gettext_noop("本单位待办理的问题"),
    gettext_noop("待审批的延期申请"),
    gettext_noop("待确认无法联系的反映户"),
    gettext_noop("待反馈群众的办理结果"),
    gettext_noop("待做的思想工作"),
)
NO_COUNTS = TodoCounts({}, 0)


def request_todo_counts(request: HttpRequest) -> TodoCounts:
    """The user's to-do and unread counts, asked once per request (header and page share)."""
    cached = getattr(request, "_pingan_todo_counts", None)
    if cached is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return NO_COUNTS
        cached = todo_counts(user=user)
        request._pingan_todo_counts = cached  # type: ignore[attr-defined]
    return cached


class HeaderCounts:
    """What the layout's header shows beside 待办 and 消息; asks the database only when the
    header reads a count (so a fragment or an error page asks nothing)."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @property
    def has_todo(self) -> bool:
        user = getattr(self._request, "user", None)
        return bool(user is not None and user.is_authenticated and user.role in TODO_ROLES)

    @property
    def todo(self) -> int:
        return request_todo_counts(self._request).total

    @property
    def unread(self) -> int:
        return request_todo_counts(self._request).unread


@login_required
def todo(request: AuthenticatedRequest) -> HttpResponse:
    """待办: the user's sections, each with its count and first rows; one section in full."""
    user = request.user
    if user.role not in TODO_ROLES:
        return redirect("web:ledger")
    now = clock.now()
    counts = request_todo_counts(request)
    key = request.GET.get("section", "")
    if key and section_visible(user, key):
        section = SECTION_BY_KEY[key]
        page = Paginator(section_rows(user, key, now), ROWS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        context: dict[str, Any] = {
            "one": {"section": section, "title": _(section.title), "page": page},
            "cadre": user.role == Role.CADRE,
        }
        return render(request, "web/todo.html", context)
    sections = []
    for section in sections_for(user):
        count = counts.sections.get(section.key, 0)
        rows: list[Any] = []
        if count and section.row:
            rows = list(section_rows(user, section.key, now)[:SECTION_PREVIEW])
        sections.append(
            {"section": section, "title": _(section.title), "count": count, "rows": rows,
             "more": count > len(rows) and bool(section.row)}
        )  # fmt: skip
    context = {"sections": sections, "total": counts.total, "cadre": user.role == Role.CADRE}
    return render(request, "web/todo.html", context)
