"""登记 and the lists it draws on: a phone call or walk-in (来电来访) recorded as a concern
waiting for triage (`visits.concerns.concern_report`), and the town center's categories
(问题类别) and routing rules (派单规则) with their 试一试 box.

The 登记 form works without script: the household search is a GET form whose results come
back as radio buttons in the 登记 form (which keeps what was searched), and a refused form
comes back with everything typed.

Sending the same 登记 twice records one concern (`concern_report_once`):
- the form carries a submission key; the concern it made is remembered under the user and
  that key for 24 hours (Django's cache, `add`, so the first answer is never replaced);
- and, because a cache may be per process or lost, a concern by the same user about the
  same household (or, without one, the same village) with the same words within the last
  10 minutes is taken to be the same report. The user's row is locked while this is checked,
  so two copies sent at once wait for each other instead of both passing the check.
Either way the user lands on the concern already recorded, and is told so.

Photos or files sent with the 登记 are attached to the new concern in the same transaction
(`ledger.attachments.attachments_add`): a file refused means no concern either, and the form
comes back saying why (files must be chosen again: a browser never keeps them). A 登记 sent
again attaches nothing more.
"""

import datetime as dt
import re
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pingan.accounts.models import Role, User
from pingan.accounts.selectors import unit_list
from pingan.campaigns.selectors import (
    HOUSEHOLD_SEARCH_LIMIT,
    category_list,
    household_search,
    routing_rule_list,
)
from pingan.campaigns.services.categories import (
    CategoryError,
    category_create,
    category_delete,
    category_move,
    category_rename,
    category_set_active,
    routing_rule_delete,
    routing_rule_save,
)
from pingan.core import clock
from pingan.ledger.attachments import (
    AttachmentError,
    attachment_list_for_concern,
    attachments_add,
    user_may_attach_to_concern,
)
from pingan.ledger.models import Problem
from pingan.ledger.routing import TownIndex, route
from pingan.regions.models import Region
from pingan.regions.selectors import town_for_user, village_list
from pingan.visits.concerns import ConcernError, category_names, concern_report
from pingan.visits.models import Concern, ConcernItem
from pingan.visits.selectors import concern_list
from pingan.web.forms import (
    CategoryForm,
    ConcernReportForm,
    HouseholdSearchForm,
    RoutingRuleForm,
    RoutingSampleForm,
)
from pingan.web.views import AuthenticatedRequest

# --- 登记 (来电来访) --------------------------------------------------------------------------

INTAKE_ROLES = (Role.TOWN_ADMIN, Role.VILLAGE_ADMIN)
SUBMISSION_KEY = re.compile(r"[0-9a-f]{32}")
SUBMISSION_TTL = 24 * 60 * 60  # seconds
SAME_REPORT_WITHIN = dt.timedelta(minutes=10)
# The form's input for the field a service error names (`ConcernError.field`).
CONCERN_ERROR_FIELDS = {"household_id": "household", "village_id": "village"}


def _submission_cache_key(user: User, key: str) -> str:
    return f"pingan:intake:{user.pk}:{key}"


def _same_report(*, actor: User, text: str, household_id: int | None, village_id: int | None):
    """A concern this user recorded by phone or walk-in in the last 10 minutes about the
    same household (or, without one, the same village) with the same words."""
    same = concern_list(user=actor).filter(
        reported_by=actor,
        source__in=(Concern.Source.PHONE, Concern.Source.WALK_IN),
        text=text.strip(),
        reported_at__gte=clock.now() - SAME_REPORT_WITHIN,
    )
    if household_id is not None:
        same = same.filter(household_id=household_id)
    else:
        same = same.filter(household__isnull=True, village_id=village_id or 0)
    return same.order_by("-reported_at", "-id").first()


def concern_report_once(*, actor: User, key: str, **report: Any) -> tuple[Concern, bool]:
    """`concern_report`, unless this is the same 登记 sent again (see the module docstring):
    (the concern, whether it had been recorded before)."""
    cache_key = _submission_cache_key(actor, key) if key else ""
    if cache_key:
        known = cache.get(cache_key)
        if known is not None:
            concern = concern_list(user=actor).filter(pk=known).first()
            if concern is not None:
                return concern, True
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).values_list("pk").first()
        same = _same_report(
            actor=actor,
            text=report.get("text", ""),
            household_id=report.get("household_id"),
            village_id=report.get("village_id"),
        )
        if same is not None:
            concern, again = same, True
        else:
            concern, again = concern_report(actor=actor, **report), False
    if cache_key:
        cache.add(cache_key, concern.pk, SUBMISSION_TTL)
    return concern, again


@login_required
def concern_new(request: AuthenticatedRequest) -> HttpResponse:
    """登记 (来电来访): the town center or a village admin records what a caller or visitor
    reported, as a concern waiting for triage (待梳理)."""
    user = request.user
    if user.role not in INTAKE_ROLES:
        raise PermissionDenied
    town = town_for_user(user=user)
    villages = list(village_list(user=user).values_list("pk", "name"))
    posted = request.POST if request.method == "POST" else None
    search = HouseholdSearchForm(
        request.GET if posted is None else {"q": request.POST.get("q", "")}, auto_id="search-%s"
    )
    text = search.cleaned_data["q"].strip() if search.is_valid() else ""
    found = household_search(user=user, text=text) if text else []
    initial: dict[str, Any] = {
        "source": Concern.Source.PHONE,
        "q": text,
        "submission": uuid.uuid4().hex,
    }
    if len(villages) == 1:
        initial["village"] = villages[0][0]
    form = ConcernReportForm(
        posted,
        sources=[(value, _(label)) for value, label in Concern.Source.choices if value != "visit"],
        villages=villages,
        categories=category_names(town=town) if town is not None else [],
        initial=initial,
    )
    status, files_error = 200, ""
    if posted is not None:
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            key = data["submission"] if SUBMISSION_KEY.fullmatch(data["submission"]) else ""
            household_id = data["household"]
            files = request.FILES.getlist("files")
            try:
                with transaction.atomic():
                    concern, again = concern_report_once(
                        actor=user,
                        key=key,
                        text=data["text"],
                        household_id=household_id,
                        village_id=data["village"] if household_id is None else None,
                        source=data["source"],
                        category=data["category"],
                        caller_name=data["caller_name"],
                        callback_phone=data["callback_phone"],
                    )
                    if files and not again:
                        attachments_add(actor=user, files=files, concern=concern)
            except ConcernError as exc:
                field = CONCERN_ERROR_FIELDS.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
                status = exc.status
            except AttachmentError as exc:
                files_error = exc.message
                status = exc.status
            else:
                if again:
                    messages.info(
                        request,
                        _("这份登记已经提交过（反映 #%(number)s），没有重复登记。")
                        % {"number": concern.pk},
                    )
                else:
                    messages.success(
                        request,
                        _("已登记群众反映 #%(number)s，等待镇综治中心梳理。")
                        % {"number": concern.pk},
                    )
                return redirect("web:intake_concern", concern.pk)
    context = {
        "form": form,
        "search": search,
        "searched": text,
        "households": found[:HOUSEHOLD_SEARCH_LIMIT],
        "more": len(found) > HOUSEHOLD_SEARCH_LIMIT,
        "chosen": str(form["household"].value() or ""),
        "files_error": files_error,
    }
    return render(request, "web/intake/new.html", context, status=status)


@login_required
def intake_concern(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One concern as recorded: its number, where it stands (待梳理 until triaged), and what
    was said; personal data masked."""
    concern = (
        concern_list(user=request.user)
        .select_related("village", "household", "reported_by")
        .filter(pk=pk)
        .first()
    )
    if concern is None:
        raise Http404("concern not found")
    context = {
        "concern": concern,
        "can_report": request.user.role in INTAKE_ROLES,
        "attachments": attachment_list_for_concern(user=request.user, concern_id=concern.pk),
        "can_attach": user_may_attach_to_concern(user=request.user, concern=concern),
    }
    return render(request, "web/intake/concern.html", context)


# --- 问题类别 (categories) ---------------------------------------------------------------------


def category_recorded_uses(*, town: Region, name: str) -> int:
    """How many concerns, concern items and problems of `town` record the category `name`
    (each counted up to its first row: what matters is whether any does)."""
    return sum(
        1
        for found in (
            Concern.objects.filter(village__parent=town, category=name),
            ConcernItem.objects.filter(concern__village__parent=town, category=name),
            Problem.objects.filter(village__parent=town, category=name),
        )
        if found.exists()
    )


def _settings_town(request: AuthenticatedRequest) -> Region:
    """The town whose lists the user keeps: only the town center (403 for anyone else)."""
    user = request.user
    region = user.region if user.region_id is not None else None
    if user.role != Role.TOWN_ADMIN or region is None or region.kind != Region.Kind.TOWN:
        raise PermissionDenied
    return region


CATEGORY_DONE = {
    "add": gettext_noop("已添加类别“%(name)s”。"),
    "rename": gettext_noop("已改名为“%(name)s”。"),
    "up": gettext_noop("已调整“%(name)s”的顺序。"),
    "down": gettext_noop("已调整“%(name)s”的顺序。"),
    "deactivate": gettext_noop("已停用类别“%(name)s”：登记和梳理时不再可选，已有记录不变。"),
    "activate": gettext_noop("已启用类别“%(name)s”。"),
    "delete": gettext_noop("已删除类别“%(name)s”。"),
}


def _category_change(user: User, data: dict[str, Any]) -> str:
    """Carry out one change of the categories page; the name it is about."""
    op, category_id, name = data["op"], data["category_id"], data["name"]
    if op == "add":
        return category_create(actor=user, name=name).name
    if category_id is None:
        raise Http404("category not found")
    if op == "rename":
        return category_rename(actor=user, category_id=category_id, name=name).name
    if op in ("up", "down"):
        offset = -1 if op == "up" else 1
        return category_move(actor=user, category_id=category_id, offset=offset).name
    if op in ("deactivate", "activate"):
        active = op == "activate"
        return category_set_active(actor=user, category_id=category_id, active=active).name
    return category_delete(
        actor=user, category_id=category_id, recorded_uses=category_recorded_uses
    )


@login_required
def categories(request: AuthenticatedRequest) -> HttpResponse:
    """问题类别: the town center's list of categories — add, rename, reorder, deactivate, and
    delete one nothing uses."""
    town = _settings_town(request)
    form = CategoryForm(request.POST if request.method == "POST" else None)
    status, failed_id, alert = 200, None, ""
    if request.method == "POST":
        status = 422
        if not form.is_valid():
            alert = _("操作无效，请刷新页面后重试。")
        else:
            try:
                name = _category_change(request.user, form.cleaned_data)
            except CategoryError as exc:
                form.add_error(None, exc.message)
                status, failed_id = exc.status, form.cleaned_data["category_id"]
            else:
                messages.success(
                    request, _(CATEGORY_DONE[form.cleaned_data["op"]]) % {"name": name}
                )
                return redirect("web:categories")
    context = {
        "town": town,
        "categories": list(category_list(town=town)),
        "form": form,
        "failed_id": failed_id,
        "alert": alert,
        "typed": form.data.get("name", "") if form.is_bound else "",
    }
    return render(request, "web/intake/categories.html", context, status=status)


# --- 派单规则 (routing rules) -----------------------------------------------------------------


def _rule_form(request: AuthenticatedRequest, town: Region, data=None, initial=None):
    categories_all = list(category_list(town=town).values_list("name", "active"))
    return RoutingRuleForm(
        data,
        categories=[name for name, _active in categories_all],
        units=unit_list(user=request.user)
        .filter(active=True)
        .order_by("sort_order", "name")
        .values_list("pk", "name"),
        initial=initial,
    )


def _rule_hit(town: Region, sample: str) -> dict[str, Any]:
    """What `ledger.routing.route` suggests for `sample`, and the rule that says so (the
    first active rule, by priority, with a keyword in it)."""
    index = TownIndex(town, problems=[])
    category, unit, why = route(index, sample, "")
    rule = next((r for r in index.rules if any(word in sample for word in r.keyword_list())), None)
    return {"category": category, "unit": unit, "why": why, "rule": rule}


@login_required
def routing_rules(request: AuthenticatedRequest) -> HttpResponse:
    """派单规则: keywords → category → unit, tried by priority; add, change, deactivate or
    delete one, and 试一试: which rule a sample text hits."""
    town = _settings_town(request)
    user = request.user
    rules = routing_rule_list(town=town)
    editing = None
    status = 200
    if request.method == "POST":
        if request.POST.get("op") == "delete":
            rule_id = request.POST.get("rule_id", "")
            if not rule_id.isdigit():
                raise Http404("routing rule not found")
            routing_rule_delete(actor=user, rule_id=int(rule_id))
            messages.success(request, _("已删除派单规则。"))
            return redirect("web:routing_rules")
        form = _rule_form(request, town, data=request.POST)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                rule = routing_rule_save(
                    actor=user,
                    rule_id=data["rule_id"],
                    keywords=data["keywords"],
                    category=data["category"],
                    unit_id=data["unit"],
                    priority=data["priority"],
                    active=data["active"],
                )
            except CategoryError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("已保存派单规则：%(keywords)s → %(category)s")
                    % {"keywords": rule.keywords, "category": rule.category},
                )
                return redirect("web:routing_rules")
        editing = form.data.get("rule_id") or None
    else:
        edit = request.GET.get("edit", "")
        chosen = rules.filter(pk=int(edit)).first() if edit.isdigit() else None
        if chosen is not None:
            editing = chosen.pk
            form = _rule_form(
                request,
                town,
                initial={
                    "rule_id": chosen.pk,
                    "keywords": chosen.keywords,
                    "category": chosen.category,
                    "unit": chosen.unit_id,
                    "priority": chosen.priority,
                    "active": chosen.active,
                },
            )
        else:
            form = _rule_form(request, town)
    sample_form = RoutingSampleForm(request.GET if "sample" in request.GET else None)
    hit = None
    if sample_form.is_bound and sample_form.is_valid() and sample_form.cleaned_data["sample"]:
        hit = _rule_hit(town, sample_form.cleaned_data["sample"])
    context = {
        "town": town,
        "rules": list(rules),
        "form": form,
        "editing": editing,
        "sample_form": sample_form,
        "hit": hit,
    }
    return render(request, "web/intake/routing_rules.html", context, status=status)
