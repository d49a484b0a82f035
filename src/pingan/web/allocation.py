"""The allocation page of a village (分片包干): coverage per cadre, a preview of what
re-allocation would move, applying it, assigning a household by hand (lock/unlock), and
handing over a leaving cadre's households.

Thin views: each validates with a small form, calls one service or selector, and redirects.
A village outside the user's subtree is 404; a role that may not allocate gets 403.
"""

import itertools
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pingan.accounts.models import Person
from pingan.campaigns.models import Campaign
from pingan.campaigns.selectors import (
    allocation_cadre_list,
    cadre_list_active,
    campaign_current,
    coverage_warning,
    household_filter_coverage,
    household_group_counts,
    household_list,
    household_list_with_assignment,
    user_can_allocate,
    village_coverage_annotate,
    village_list_with_progress,
)
from pingan.campaigns.services.allocation import (
    AllocationDenied,
    AllocationError,
    AllocationResult,
    allocation_run,
    assignment_set,
    assignment_unlock,
    cadre_handover,
)
from pingan.regions.models import Region
from pingan.regions.selectors import village_list
from pingan.web.views import AuthenticatedRequest, _breadcrumbs

HOUSEHOLDS_PER_PAGE = 50
PREVIEW_MOVES = 100
# The page's own filters, kept across the forms' redirects.
FILTERS = ("group", "cadre", "unassigned", "page")


class HouseholdFilterForm(forms.Form):
    group = forms.IntegerField(required=False, min_value=0)
    cadre = forms.IntegerField(required=False, min_value=1)
    unassigned = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1)


class AssignForm(forms.Form):
    household = forms.IntegerField(min_value=1)
    cadre = forms.ModelChoiceField(queryset=Person.objects.none(), label=gettext_lazy("走访干部"))
    locked = forms.BooleanField(required=False, label=gettext_lazy("锁定"))
    note = forms.CharField(required=False, max_length=200, label=gettext_lazy("备注"))

    def __init__(self, *args, cadres, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cadre"].queryset = cadres  # type: ignore[attr-defined]


class UnlockForm(forms.Form):
    household = forms.IntegerField(min_value=1)


class HandoverForm(forms.Form):
    cadre = forms.ModelChoiceField(queryset=Person.objects.none(), label=gettext_lazy("离岗干部"))
    to_cadre = forms.ModelChoiceField(
        queryset=Person.objects.none(), required=False, label=gettext_lazy("接手干部")
    )

    def __init__(self, *args, cadres, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cadre"].queryset = cadres  # type: ignore[attr-defined]
        self.fields["to_cadre"].queryset = cadres  # type: ignore[attr-defined]

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("cadre") is not None and data.get("cadre") == data.get("to_cadre"):
            raise forms.ValidationError(_("接手的干部不能是离岗干部本人。"))
        return data


def _village(request: AuthenticatedRequest, village_id: int, villages=None) -> Region:
    """The village, if the user can see it (else 404) and may allocate in it (else 403)."""
    village = get_object_or_404(
        villages if villages is not None else village_list(user=request.user), pk=village_id
    )
    if not user_can_allocate(user=request.user, village=village):
        raise PermissionDenied
    return village


def _back(request: AuthenticatedRequest, village: Region) -> HttpResponseRedirect:
    """Back to the allocation page, with the filters it had (only the known ones)."""
    url = reverse("web:allocation", args=[village.pk])
    posted = QueryDict(request.POST.get("back", ""))
    kept = {key: posted[key] for key in FILTERS if posted.get(key)}
    return HttpResponseRedirect(f"{url}?{urlencode(kept)}" if kept else url)


def _campaign_or_message(request: AuthenticatedRequest, village: Region) -> Campaign | None:
    campaign = campaign_current(town=village.parent) if village.parent else None
    if campaign is None:
        messages.error(request, _("本镇尚未设立走访活动，无法分片包干。"))
    return campaign


def _summary(result: AllocationResult) -> str:
    """`result.summary()` for the page, in the page's language."""
    text = _(
        "%(village)s：在住 %(households)s 户，走访干部 %(cadres)s 名；未分配 %(before)s → "
        "%(after)s 户，调整 %(moved)s 户，新分配 %(new)s 户。"
    ) % {
        "village": result.village.name,
        "households": result.households,
        "cadres": result.active_cadres,
        "before": result.unassigned_before,
        "after": result.unassigned_after,
        "moved": result.moved,
        "new": result.newly_assigned,
    }
    if result.released:
        text += _("%(released)s 户已不在住，其分配已注销。") % {"released": result.released}
    return text


def _report(request: AuthenticatedRequest, result: AllocationResult) -> None:
    messages.success(request, _summary(result))
    for warning in result.warnings():
        messages.warning(request, warning)


@login_required
def allocation(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    user = request.user
    # `village` carries the annotations (counts, coverage) the template shows.
    village: Any = _village(
        request, village_id, village_coverage_annotate(village_list_with_progress(user=user))
    )
    region: Region = village
    campaign = campaign_current(town=region.parent) if region.parent else None
    cadres = list(allocation_cadre_list(village=region, campaign=campaign))

    filters = HouseholdFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    households = household_list(user=user, village=region)
    if chosen.get("group") is not None:
        households = households.filter(group_no=chosen["group"] or None)
    cadre = next((c for c in cadres if c.pk == chosen.get("cadre")), None)
    households = household_filter_coverage(
        households, campaign=campaign, cadre=cadre, unassigned=bool(chosen.get("unassigned"))
    )
    page = Paginator(
        household_list_with_assignment(households=households, campaign=campaign),
        HOUSEHOLDS_PER_PAGE,
    ).get_page(chosen.get("page"))

    preview = (
        allocation_run(campaign=campaign, village=region, actor=user, dry_run=True)
        if campaign is not None
        else None
    )
    context = {
        "village": village,
        "breadcrumbs": _breadcrumbs(user=user, region=region),
        "campaign": campaign,
        "cadres": cadres,
        "active_cadres": [c for c in cadres if c.active and c.visit_village_id == region.pk],
        "warning": coverage_warning(campaign=campaign, unassigned=village.unassigned_households),
        "preview": preview,
        "preview_summary": _summary(preview) if preview else "",
        "preview_moves": preview.moves[:PREVIEW_MOVES] if preview else [],
        "groups": household_group_counts(user=user, village=region),
        "filters": chosen,
        "filtered_cadre": cadre,
        "back": request.GET.urlencode(),
        "page": page,
    }
    return render(request, "web/allocation/village.html", context)


@login_required
@require_POST
def allocation_apply(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    village = _village(request, village_id)
    campaign = _campaign_or_message(request, village)
    if campaign is not None:
        try:
            result = allocation_run(campaign=campaign, village=village, actor=request.user)
        except AllocationDenied as exc:
            raise PermissionDenied from exc
        except AllocationError as exc:
            messages.error(request, exc.message)
        else:
            _report(request, result)
    return _back(request, village)


@login_required
@require_POST
def allocation_assign(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    village = _village(request, village_id)
    form = AssignForm(request.POST, cadres=cadre_list_active(village=village))
    campaign = _campaign_or_message(request, village)
    if not form.is_valid():
        messages.error(request, _("请选择本村在岗的走访干部。"))
    elif campaign is not None:
        household = get_object_or_404(
            household_list(user=request.user, village=village), pk=form.cleaned_data["household"]
        )
        try:
            assignment = assignment_set(
                campaign=campaign,
                household=household,
                cadre=form.cleaned_data["cadre"],
                actor=request.user,
                locked=form.cleaned_data["locked"],
                note=form.cleaned_data["note"],
            )
        except AllocationDenied as exc:
            raise PermissionDenied from exc
        except AllocationError as exc:
            messages.error(request, exc.message)
        else:
            template = (
                _("已将“%(address)s”分给%(cadre)s（已锁定）。")
                if assignment.locked
                else _("已将“%(address)s”分给%(cadre)s。")
            )
            messages.success(
                request, template % {"address": household.address, "cadre": assignment.cadre.name}
            )
    return _back(request, village)


@login_required
@require_POST
def allocation_unlock(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    village = _village(request, village_id)
    form = UnlockForm(request.POST)
    campaign = _campaign_or_message(request, village)
    if form.is_valid() and campaign is not None:
        household = get_object_or_404(
            household_list(user=request.user, village=village), pk=form.cleaned_data["household"]
        )
        try:
            assignment_unlock(campaign=campaign, household=household, actor=request.user)
        except AllocationDenied as exc:
            raise PermissionDenied from exc
        except AllocationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("已解除“%(address)s”的锁定，下次重新分配时可能调整。")
                % {"address": household.address},
            )
    return _back(request, village)


@login_required
@require_POST
def allocation_handover(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    village = _village(request, village_id)
    form = HandoverForm(request.POST, cadres=cadre_list_active(village=village))
    campaign = _campaign_or_message(request, village)
    if not form.is_valid():
        for error in itertools.chain.from_iterable(form.errors.values()):
            messages.error(request, str(error))
    elif campaign is not None:
        try:
            result = cadre_handover(
                campaign=campaign,
                cadre=form.cleaned_data["cadre"],
                to_cadre=form.cleaned_data["to_cadre"],
                actor=request.user,
            )
        except AllocationDenied as exc:
            raise PermissionDenied from exc
        except AllocationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(name)s已离岗，%(count)s 户已交接。")
                % {"name": form.cleaned_data["cadre"].name, "count": result.moved},
            )
            _report(request, result)
    return _back(request, village)
