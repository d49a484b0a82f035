"""A campaign (活动) in one town: its phases, deadline policy, per-village quotas, and who
visits which household (分片包干)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from pingan.core import clock
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
    # The questionnaire version cadres use now; a used version is frozen, an edit makes the
    # next version and the campaign moves to it (surveys.services.questionnaire_revise).
    questionnaire = models.ForeignKey(
        "surveys.Questionnaire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name="当前问卷",
    )

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


class Assignment(TimeStamped):
    """One household given to one cadre in one campaign (分片包干), from `started_at` until
    `ended_at` (None: the current one). Reassigning ends the row and starts a new one, so the
    rows are the history: who held the household when, and who decided it. Nothing is deleted.
    """

    class Source(models.TextChoices):
        ALLOCATION = "allocation", "按比例分配"
        MANUAL = "manual", "手工指定"
        HANDOVER = "handover", "离岗交接"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="assignments", verbose_name="活动"
    )
    household = models.ForeignKey(
        "regions.Household",
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name="住户",
    )
    cadre = models.ForeignKey(
        "accounts.Person",
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name="走访干部",
    )
    started_at = models.DateTimeField("开始时间", default=clock.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    # Made by hand and kept by re-allocation until unlocked.
    locked = models.BooleanField("锁定", default=False)
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    note = models.CharField("备注", max_length=200, blank=True, default="")

    class Meta:
        ordering = ["campaign", "household", "-started_at", "-id"]
        verbose_name = "分片包干"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_current_per_household",
            ),
            # Not strictly after: a household reassigned twice within one clock tick (or
            # under a frozen test clock) ends the moment it started.
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="assignment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["allocation", "manual", "handover"]),
                name="assignment_source_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "cadre"],
                condition=Q(ended_at__isnull=True),
                name="assignment_current_by_cadre",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} -> {self.cadre_id}"


class LeafletIssue(models.Model):
    """Leaflets (宣传资料) the town center issued to a village: the village governance director
    collects them at the center and the cadres hand one to each household."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="leaflets")
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField("数量（份）")
    collected_by = models.CharField("领取人", max_length=64, blank=True, default="")
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    issued_at = models.DateTimeField("发放时间", default=clock.now, db_index=True)
    note = models.CharField("备注", max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = "宣传资料发放"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="leaflet_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.village_id}: {self.quantity}"


class ProblemCategory(TimeStamped):
    """One category (类别) of the town's list: concerns and problems take a category from it,
    and the routing rules name one. The town center keeps the list."""

    town = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="problem_categories"
    )
    name = models.CharField("类别", max_length=40)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("在用", default=True)

    class Meta:
        ordering = ["town", "sort_order", "name"]
        verbose_name = "问题类别"
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="problem_category_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(TimeStamped):
    """派单规则: when a concern's words contain one of `keywords`, suggest `category` and
    `unit`. Rules are tried by `priority` (lower first); the town center edits them."""

    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    keywords = models.CharField("关键词", max_length=500, help_text="用空格或顿号分隔")
    category = models.CharField("类别", max_length=40)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority = models.PositiveSmallIntegerField("优先级", default=100)
    active = models.BooleanField("在用", default=True)

    class Meta:
        ordering = ["town", "priority", "id"]
        verbose_name = "派单规则"

    def __str__(self) -> str:
        return f"{self.keywords} → {self.category}"

    def keyword_list(self) -> list[str]:
        words = self.keywords.replace("、", " ").replace("，", " ").replace(",", " ").split()
        return [word for word in words if word]
