"""Reads of campaigns, phases and quotas."""

from django.db.models import QuerySet, Sum

from pingan.campaigns.models import Campaign, Phase, VillageQuota
from pingan.regions.models import Region


def campaign_current(*, town: Region) -> Campaign | None:
    """The town's campaign that started last (the one the pages and figures are about)."""
    return Campaign.objects.filter(town=town).order_by("-start_date", "-id").first()


def phase_list(*, campaign: Campaign) -> QuerySet[Phase]:
    return campaign.phases.order_by("start_date")


def quota_total(*, campaign: Campaign) -> int:
    return int(VillageQuota.objects.filter(campaign=campaign).aggregate(t=Sum("quota"))["t"] or 0)
