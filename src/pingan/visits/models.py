"""Visits (走访) with their answers and paradata, exactly once per client uuid."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from pingan.core import clock


class Visit(models.Model):
    """One visit to one household by one cadre, as the phone recorded it.

    `uuid` is generated on the phone; the same uuid is stored once (a replay returns the
    original result). `payload_digest` is the SHA-256 of the canonical payload, so a replay
    with different content is told apart from a true replay (409).
    """

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "入户走访"
        PHONE = "phone", "电话走访"
        REFUSED = "refused", "拒绝调查"
        NOT_HOME = "not_home", "不在家"
        VACANT = "vacant", "空挂户"

    # Outcomes that make a household reached (docs/architecture.md); not_home must be revisited, and
    # vacant leaves the denominator once the village admin confirms it.
    COUNTING = (Outcome.COMPLETED, Outcome.PHONE, Outcome.REFUSED)

    uuid = models.UUIDField("客户端编号", unique=True)
    payload_digest = models.CharField("内容摘要", max_length=64)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="visits"
    )
    household = models.ForeignKey(
        "regions.Household", on_delete=models.PROTECT, related_name="visits"
    )
    # Denormalized from the household at submission, for per-village aggregates without a join.
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    cadre = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="visits")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField("走访结果", max_length=16, choices=Outcome.choices)
    counts = models.BooleanField("计入已走访", default=False)
    questionnaire = models.ForeignKey(
        "surveys.Questionnaire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    leaflet_handed = models.BooleanField("已发放宣传资料", default=False)
    opinion = models.TextField("群众意见建议", blank=True, default="")
    note = models.TextField("备注", blank=True, default="")
    # Paradata, for integrity checks (docs/architecture.md).
    started_at = models.DateTimeField("开始时间（设备）")
    ended_at = models.DateTimeField("结束时间（设备）")
    received_at = models.DateTimeField("接收时间（服务器）", default=clock.now, db_index=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.FloatField("定位精度（米）", null=True, blank=True)
    mock_location = models.BooleanField("模拟定位", null=True, blank=True)
    device_id = models.CharField("设备标识", max_length=100, blank=True, default="")
    app_version = models.CharField("应用版本", max_length=40, blank=True, default="")
    # Vacant visits count only after the village admin confirms (docs/architecture.md).
    vacancy_confirmed_at = models.DateTimeField("空挂户确认时间", null=True, blank=True)
    vacancy_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-ended_at", "-id"]
        verbose_name = "走访"
        indexes = [
            models.Index(fields=["campaign", "village", "counts"]),
            models.Index(fields=["household", "ended_at"]),
            models.Index(fields=["cadre", "ended_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")), name="visit_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["completed", "phone", "refused", "not_home", "vacant"]),
                name="visit_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(counts=False) | Q(outcome__in=["completed", "phone", "refused"]),
                name="visit_counts_only_reached_outcomes",
            ),
        ]

    def __str__(self) -> str:
        return f"visit {self.uuid}"


class Answer(models.Model):
    """One answer to one question of a visit. A multiple-choice answer is one row per option."""

    # No single-column indexes on visit and question: the unique constraints below lead with
    # visit, and the (question, option) index leads with question. Every index costs the sync
    # path time on each of the ~15 answer rows a visit writes.
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    question = models.ForeignKey(
        "surveys.Question", on_delete=models.PROTECT, related_name="answers", db_index=False
    )
    option = models.ForeignKey(
        "surveys.Option", on_delete=models.PROTECT, null=True, blank=True, related_name="answers"
    )
    text = models.TextField("文字", blank=True, default="")
    number = models.DecimalField("数值", max_digits=12, decimal_places=2, null=True, blank=True)
    answer_ms = models.PositiveIntegerField("作答用时（毫秒）", null=True, blank=True)

    class Meta:
        ordering = ["visit", "question__position", "option__position"]
        verbose_name = "答案"
        indexes = [models.Index(fields=["question", "option"])]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "question", "option"],
                condition=Q(option__isnull=False),
                name="answer_unique_option",
            ),
            models.UniqueConstraint(
                fields=["visit", "question"],
                condition=Q(option__isnull=True),
                name="answer_unique_open_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id}:{self.question_id}"
