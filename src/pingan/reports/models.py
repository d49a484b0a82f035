"""The daily bulletin (每日通报): one town's figures on one day, frozen when published; and
the background exports (导出任务) users ask for."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from pingan.core import clock


class Bulletin(models.Model):
    """A published bulletin: the figures (`reports.figures`, JSON schema `pingan.bulletin/1`)
    exactly as they stood when it was published. Publishing the same day again makes the next
    version; a published version never changes."""

    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    date = models.DateField("通报日期")
    version = models.PositiveIntegerField("版本", default=1)
    number = models.CharField("文号", max_length=64)
    figures = models.JSONField("数据")
    published_at = models.DateTimeField("发布时间", default=clock.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["town", "-date", "-version"]
        verbose_name = "每日通报"
        constraints = [
            models.UniqueConstraint(
                fields=["town", "date", "version"], name="bulletin_unique_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="bulletin_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"


class ExportJob(models.Model):
    """One export a user asked for (导出任务), written in the background by the task queue.

    `region` is the requester's scope when they asked: the rows come from that subtree even
    if their account moves later. `params` holds the checked filters (`village_id`,
    `village_name`, `date_from`, `date_to`; dates as YYYY-MM-DD). The file lives under
    PINGAN_HOME (`path` is relative to it) and appears there only once complete; a failed
    job has no file. `updated_at` moves with every state change and with the progress of a
    running export, so a job whose worker died is recognised and failed (see
    `reports.export_services.export_abandoned_fail`).
    """

    class Kind(models.TextChoices):
        VISITS = "visits", "走访记录"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "正在导出"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    # The lifecycle: a done or failed job never changes again (a new request makes a new job).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.QUEUED: frozenset({Status.RUNNING, Status.FAILED}),
        Status.RUNNING: frozenset({Status.DONE, Status.FAILED}),
        Status.DONE: frozenset(),
        Status.FAILED: frozenset(),
    }

    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_jobs",
        verbose_name="申请人",
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="范围"
    )
    params = models.JSONField("筛选条件", default=dict, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.QUEUED)
    row_count = models.PositiveIntegerField("行数", default=0)
    path = models.CharField("文件", max_length=255, blank=True, default="")
    file_size = models.PositiveBigIntegerField("文件大小（字节）", null=True, blank=True)
    error = models.TextField("失败原因", blank=True, default="")
    created_at = models.DateTimeField("申请时间", default=clock.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    updated_at = models.DateTimeField("最近进度", default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "导出任务"
        indexes = [
            models.Index(fields=["requested_by", "-created_at"]),
            models.Index(fields=["status", "updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["visits"]), name="export_job_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="export_job_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "failed"]) | Q(started_at__isnull=False),
                name="export_job_started_when_running_or_done",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running"], finished_at__isnull=True)
                | Q(status__in=["done", "failed"], finished_at__isnull=False),
                name="export_job_finished_when_over",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(path="") & Q(file_size__isnull=False)),
                name="export_job_done_has_file",
            ),
            models.CheckConstraint(
                condition=Q(status="done") | (Q(path="") & Q(file_size__isnull=True)),
                name="export_job_file_only_when_done",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="export_job_failed_has_error"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="export_job_finishes_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def over(self) -> bool:
        """Done or failed: nothing more will happen to this job."""
        return self.status in (self.Status.DONE, self.Status.FAILED)
