"""Back-office pages. Thin: each fetches through the scoped selectors and renders.

Anything outside the user's subtree is fetched with `get_object_or_404` on a scoped
queryset, so it is "not found" (404) and its existence is never revealed.
"""

import functools
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST, require_safe

from pingan.accounts.models import Role, User
from pingan.accounts.selectors import (
    person_list,
    region_ancestors,
    region_list,
    user_can_reveal_personal_data,
    user_can_see_households,
)
from pingan.accounts.services import user_change_password
from pingan.campaigns.selectors import (
    cadre_list_with_coverage,
    campaign_current,
    coverage_totals,
    coverage_warning,
    household_group_counts,
    household_list,
    phase_list,
    town_list_with_progress,
    user_can_allocate,
    village_coverage_annotate,
    village_totals,
)
from pingan.core import clock
from pingan.ledger.queue import town_ledger_summary
from pingan.regions.models import Region
from pingan.regions.selectors import town_list
from pingan.regions.services import PersonalDataDenied, household_reveal_pii
from pingan.visits.selectors import village_list_with_visit_progress
from pingan.web.forms import REVEAL_FIELDS, LoginForm, PasswordChangeForm, RevealForm
from pingan.web.progress import town_progress_context, village_progress_context

HOUSEHOLDS_PER_PAGE = 50
# Where each role lands after signing in: the level of the region it is scoped to.
LANDING_PAGE: dict[str, str] = {
    Role.TOWN_ADMIN: "web:town",
    Role.LEADER: "web:town",
    Role.UNIT_HANDLER: "web:ledger_inbox",  # the unit's problems, most urgent first
    Role.VILLAGE_ADMIN: "web:village",
    Role.CADRE: "field:households",  # the cadre's mobile page (takes no region)
    Role.COUNTY_VIEWER: "web:county",
}
# Landing pages that take no region argument.
LANDING_WITHOUT_REGION = frozenset({"field:households", "web:ledger_inbox"})
# Who sees the town page open with the ledger's summary (待梳理, 待交办, 超期, 临期, 延期).
LEDGER_SUMMARY_ROLES = frozenset({Role.TOWN_ADMIN, Role.LEADER})
REVEAL_PURPOSE = "后台住户列表查看"
FAVICON = Path(__file__).resolve().parent / "static" / "web" / "favicon.ico"


class AuthenticatedRequest(HttpRequest):
    """A request behind `login_required`: `user` is a signed-in pingan user."""

    user: User


def _breadcrumbs(*, user: User, region: Region) -> list[Region]:
    """The chain down to `region`, keeping only the places the user may open."""
    return list(region_ancestors(region=region) & region_list(user=user))


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "web/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form checks the old password and the validators; the service saves."""

    form_class = PasswordChangeForm
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:home")
    title = gettext_lazy("修改密码")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        user_change_password(user=form.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("密码已修改。"))
        return HttpResponseRedirect(self.get_success_url())


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    landing = LANDING_PAGE.get(user.role)
    if landing is not None and user.region_id is not None:
        if landing in LANDING_WITHOUT_REGION:
            return redirect(landing)
        return redirect(landing, user.region_id)
    # No role (a superuser): every town in scope, which is none for anyone else.
    towns = town_list_with_progress(user=user)
    return render(request, "web/towns.html", {"towns": towns, "region": None})


@login_required
def county(request: AuthenticatedRequest, county_id: int) -> HttpResponse:
    user = request.user
    region = get_object_or_404(region_list(user=user).filter(kind=Region.Kind.COUNTY), pk=county_id)
    context = {
        "region": region,
        "breadcrumbs": _breadcrumbs(user=user, region=region),
        "towns": town_list_with_progress(user=user, county=region),
    }
    return render(request, "web/towns.html", context)


@login_required
def town(request: AuthenticatedRequest, town_id: int) -> HttpResponse:
    user = request.user
    region = get_object_or_404(town_list(user=user), pk=town_id)
    campaign = campaign_current(town=region)
    today = clock.today()
    villages = village_coverage_annotate(
        village_list_with_visit_progress(user=user, town=region, today=today)
    )
    context = {
        "town": region,
        "breadcrumbs": _breadcrumbs(user=user, region=region),
        "campaign": campaign,
        "phases": phase_list(campaign=campaign) if campaign else [],
        "villages": villages,
        "totals": village_totals(villages=villages, campaign=campaign),
        "coverage": coverage_totals(villages=villages, campaign=campaign),
        # 走访进度: totals and rates (web/progress.py).
        **town_progress_context(villages=villages, campaign=campaign, today=today),
        # The ledger's first lines for those who run it (one query, ledger/queue.py).
        "ledger_summary": town_ledger_summary(user=user, town=region)
        if user.role in LEDGER_SUMMARY_ROLES
        else None,
        "can_triage": user.role == Role.TOWN_ADMIN,
    }
    return render(request, "web/town.html", context)


@login_required
def village(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    user = request.user
    # `progress` carries the annotations (quota, counts, coverage) the template shows.
    today = clock.today()
    progress: Any = get_object_or_404(
        village_coverage_annotate(village_list_with_visit_progress(user=user, today=today)),
        pk=village_id,
    )
    region: Region = progress
    campaign = campaign_current(town=region.parent) if region.parent else None
    households = Paginator(household_list(user=user, village=region), HOUSEHOLDS_PER_PAGE)
    roster_visible = user_can_see_households(user)
    can_allocate = user_can_allocate(user=user, village=region)
    cadres = cadre_list_with_coverage(
        cadres=person_list(user=user)
        .filter(visit_village=region, active=True)
        .select_related("home_unit", "home_village"),
        campaign=campaign,
    )
    context = {
        "village": progress,
        "breadcrumbs": _breadcrumbs(user=user, region=region),
        "campaign": campaign,
        "groups": household_group_counts(user=user, village=region),
        "page": households.get_page(request.GET.get("page")),
        "roster_visible": roster_visible,
        # 分片包干: coverage for roster readers, the allocation page for those who allocate.
        "warning": coverage_warning(campaign=campaign, unassigned=progress.unassigned_households)
        if roster_visible
        else None,
        "allocation_url": reverse("web:allocation", args=[region.pk]) if can_allocate else "",
        "is_cadre": user.role == Role.CADRE,
        "can_reveal": user_can_reveal_personal_data(user),
        # 走访进度: figures, rates, per-cadre progress (`cadres`, annotated further),
        # households to revisit, vacancies to confirm (web/progress.py).
        **village_progress_context(
            request, user=user, village=progress, cadres=cadres, campaign=campaign, today=today
        ),
    }
    return render(request, "web/village.html", context)


@login_required
@require_POST
@never_cache
def household_reveal(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One household's full phone or ID number, for the roles that may see it; logged."""
    user = request.user
    # A role that may never reveal gets 403 for every household, so nothing is disclosed;
    # checked first because cadres and unit handlers cannot even see the roster.
    if not user_can_reveal_personal_data(user):
        raise PermissionDenied
    household = get_object_or_404(household_list(user=user), pk=pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("请求参数无效。"))
    field = form.cleaned_data["field"]
    try:
        value = household_reveal_pii(
            actor=user,
            household=household,
            field=field,
            purpose=REVEAL_PURPOSE,
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    except PersonalDataDenied as exc:
        raise PermissionDenied from exc
    context = {
        "household": household,
        "field_label": REVEAL_FIELDS[field],
        "value": value,
    }
    return render(request, "web/household_reveal.html", context)


@functools.cache
def _favicon_bytes() -> bytes:
    return FAVICON.read_bytes()


@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for by themselves: 安 on pingan's red (the layouts
    also link it and its SVG, web/favicon.svg)."""
    return HttpResponse(_favicon_bytes(), content_type="image/x-icon")
