"""A campaign (活动) in one town: its phases, deadline policy, and per-village quotas."""

from django.db import models
from django.db.models import F, Q

from pingan.core.models import TimeStamped
from pingan.regions.models import Region


class Campaign(TimeStamped):
    """One run of 千家万户访平安 in one town, with its dates and deadline policy."""

    class DeadlineBasis(models.TextChoices):
        WORKING_DAYS = "working_days", "工作日"
        CALENDAR_DAYS = "calendar_days", "自然日"

    town = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="campaigns", verbose_name="镇"
    )
    name = models.CharField("活动名称", max_length=120)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    notice_date = models.DateField("通知日期", null=True, blank=True)
    deadline_basis = models.CharField(
        "办理时限计算方式",
        max_length=16,
        choices=DeadlineBasis.choices,
        default=DeadlineBasis.WORKING_DAYS,
    )
    general_days = models.PositiveSmallIntegerField("一般问题办理时限（天）", default=10)
    complex_days = models.PositiveSmallIntegerField("复杂问题办理时限（天）", default=20)
    return_days = models.PositiveSmallIntegerField("退回时限（工作日）", default=2)

    class Meta:
        ordering = ["-start_date", "id"]
        verbose_name = "活动"
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="campaign_unique_name_in_town"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="campaign_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(general_days__gte=1) & Q(complex_days__gte=F("general_days")),
                name="campaign_deadline_days_sane",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    """One of the campaign's three stages, with its dates."""

    class Kind(models.TextChoices):
        MOBILIZATION = "mobilization", "动员部署阶段"
        VISITING = "visiting", "走访整改阶段"
        SUMMARY = "summary", "总结提升阶段"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField("阶段", max_length=16, choices=Kind.choices)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")

    class Meta:
        ordering = ["campaign", "start_date"]
        verbose_name = "阶段"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind"], name="phase_unique_kind"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="phase_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class VillageQuota(models.Model):
    """How many households a village must visit at least (任务数). A floor, not the roster."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="quotas")
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="quotas")
    quota = models.PositiveIntegerField("走访任务数")

    class Meta:
        ordering = ["campaign", "village__sort_order", "village__code"]
        verbose_name = "村走访任务"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "village"], name="quota_unique_village_in_campaign"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village_id}: {self.quota}"
