"""The dissatisfaction ledger (不满意问题台账): problems and their append-only history."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from pingan.core import clock
from pingan.core.models import TimeStamped


class Problem(TimeStamped):
    """One problem a resident raised, from a visit, a negative survey answer, or by hand.

    The state machine and who may move it live in `ledger.lifecycle`; every change goes
    through a service that checks `version` (a stale edit is refused, never overwritten).
    """

    class Status(models.TextChoices):
        REPORTED = "reported", "待受理"
        ACCEPTED = "accepted", "已受理"
        REJECTED = "rejected", "不予受理"
        DISPATCHED = "dispatched", "已交办"
        HANDLED = "handled", "已办理"
        CLOSED = "closed", "已销号"

    class Source(models.TextChoices):
        VISIT = "visit", "走访反映"
        SURVEY = "survey", "问卷不满意"
        MANUAL = "manual", "来电来访"

    class Severity(models.TextChoices):
        GENERAL = "general", "一般问题"
        COMPLEX = "complex", "复杂问题"

    class Verdict(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        DISSATISFIED = "dissatisfied", "不满意"
        # Every reporting household was confirmed unreachable by the leader, none satisfied.
        UNREACHABLE = "unreachable", "无法联系（领导确认）"

    code = models.CharField("编号", max_length=32, unique=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="problems"
    )
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "regions.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
    )
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    category = models.CharField("类别", max_length=40, blank=True, default="")
    description = models.TextField("问题描述")
    visit = models.ForeignKey(
        "visits.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="problems"
    )
    question = models.ForeignKey(
        "surveys.Question", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    option = models.ForeignKey(
        "surveys.Option", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The visiting cadre who takes the result back to the resident (反馈群众).
    cadre = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="problems"
    )
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.REPORTED
    )
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="problems"
    )
    severity = models.CharField("类型", max_length=16, choices=Severity.choices, blank=True)
    dispatched_at = models.DateTimeField("交办时间", null=True, blank=True)
    deadline = models.DateTimeField("办理截止", null=True, blank=True)
    # Set when a deadline fell in a year the holiday calendar does not know (Mon–Fri used).
    deadline_warning = models.CharField("时限提示", max_length=200, blank=True, default="")
    # A unit's pending request for more working days (the leader approves or denies it).
    extension_days = models.PositiveSmallIntegerField("申请延期（工作日）", null=True, blank=True)
    extension_reason = models.CharField("延期理由", max_length=500, blank=True, default="")
    result = models.TextField("办理结果", blank=True, default="")
    handled_at = models.DateTimeField("办结时间", null=True, blank=True)
    verdict = models.CharField(
        "群众评价", max_length=16, choices=Verdict.choices, blank=True, default=""
    )
    verdict_note = models.CharField("评价说明", max_length=500, blank=True, default="")
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    # Supervision of the current deadline (reset when a new deadline is set).
    supervised_at = models.DateTimeField("督办时间", null=True, blank=True)
    criticized_at = models.DateTimeField("列入通报批评", null=True, blank=True)
    redo_count = models.PositiveSmallIntegerField("重办次数", default=0)
    # Reporting households (`ProblemReporter`) still to give their verdict on the current
    # result; the problem closes only when none is left.
    reporters_waiting = models.PositiveIntegerField("待反馈户数", default=0)
    reported_at = models.DateTimeField("登记时间", default=clock.now, db_index=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = "问题"
        indexes = [
            models.Index(fields=["campaign", "village", "status"]),
            models.Index(fields=["unit", "status"]),
            models.Index(fields=["status", "deadline"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "reported",
                        "accepted",
                        "rejected",
                        "dispatched",
                        "handled",
                        "closed",
                    ]
                ),
                name="problem_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True) | Q(deadline__gt=models.F("dispatched_at")),
                name="problem_deadline_after_dispatch",
            ),
            # 销号 only on the residents' satisfied verdict (or, when no household could be
            # reached, the leader's confirmation of that): no other path can close a problem.
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (Q(closed_at__isnull=False) & Q(verdict__in=["satisfied", "unreachable"])),
                name="problem_closed_only_satisfied",
            ),
            models.CheckConstraint(
                condition=~Q(status="dispatched")
                | (
                    Q(unit__isnull=False)
                    & Q(deadline__isnull=False)
                    & Q(dispatched_at__isnull=False)
                    & ~Q(severity="")
                ),
                name="problem_dispatched_has_unit_and_deadline",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=["", "satisfied", "dissatisfied", "unreachable"]),
                name="problem_verdict_valid",
            ),
            # 销号 only when every reporting household has heard the result and is satisfied
            # (or, unreachable after 3 tries, was confirmed by the leader).
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(reporters_waiting=0),
                name="problem_closed_only_when_no_household_waits",
            ),
            # One problem per negative option of a visit: a replayed visit never duplicates.
            models.UniqueConstraint(
                fields=["visit", "option"],
                condition=Q(source="survey"),
                name="problem_unique_survey_option",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ProblemReporter(models.Model):
    """A household that reported a problem. A problem joined from several concerns (并案) has
    several; each hears the handling result from its visiting cadre and gives its own verdict.

    The problem closes when every reporter is done: satisfied, or unreachable after
    `UNREACHABLE_TRIES` recorded tries and confirmed so by the leader. One dissatisfied
    reporter sends the problem back to the unit (重办), and every reporter waits again.
    """

    UNREACHABLE_TRIES = 3

    class Verdict(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        DISSATISFIED = "dissatisfied", "不满意"

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="reporters")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "regions.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    concern = models.ForeignKey(
        "visits.Concern", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cadre = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verdict = models.CharField(
        "群众评价", max_length=16, choices=Verdict.choices, blank=True, default=""
    )
    verdict_note = models.CharField("评价说明", max_length=500, blank=True, default="")
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tries = models.PositiveSmallIntegerField("联系未果次数", default=0)
    unreachable_confirmed_at = models.DateTimeField("确认无法联系", null=True, blank=True)
    unreachable_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField("加入时间", default=clock.now)

    class Meta:
        ordering = ["problem", "added_at", "id"]
        verbose_name = "反映户"
        indexes = [models.Index(fields=["cadre", "verdict"])]
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "household"],
                condition=Q(household__isnull=False),
                name="problem_reporter_once_per_household",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=["", "satisfied", "dissatisfied"]),
                name="problem_reporter_verdict_valid",
            ),
            models.CheckConstraint(
                condition=Q(unreachable_confirmed_at__isnull=True) | Q(tries__gte=3),
                name="problem_reporter_unreachable_after_3_tries",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id}:{self.household_id}"

    @property
    def done(self) -> bool:
        return self.verdict == self.Verdict.SATISFIED or self.unreachable_confirmed_at is not None


class ProblemConcern(models.Model):
    """A concern the town center filed (立案) or joined (并案) into this problem. Triage links a
    concern to one problem; a ledger kept before concerns existed may link one visit's concern
    to each problem its answers raised."""

    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="concern_links")
    concern = models.ForeignKey(
        "visits.Concern", on_delete=models.PROTECT, related_name="problem_links"
    )
    at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        ordering = ["problem", "at", "id"]
        verbose_name = "问题来源反映"
        constraints = [
            models.UniqueConstraint(fields=["problem", "concern"], name="problem_concern_once"),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id}<-{self.concern_id}"


class ProblemEvent(models.Model):
    """One step in a problem's life: who did what, when, from which state to which."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("动作", max_length=24)
    from_status = models.CharField("原状态", max_length=16, blank=True, default="")
    to_status = models.CharField("新状态", max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField("说明", blank=True, default="")
    data = models.JSONField("附加信息", default=dict, blank=True)
    at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        ordering = ["problem", "at", "id"]
        verbose_name = "问题流转记录"
        # the daily ledger report starts from the day's events
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.action}"


class ProblemAlert(models.Model):
    """One reminder (催办), supervision notice (督办) or criticism listing (通报批评) that `tick`
    issued for one deadline of one problem. Unique, so running tick again sends nothing twice."""

    class Kind(models.TextChoices):
        REMIND = "remind", "催办"
        SUPERVISE = "supervise", "督办"
        CRITICIZE = "criticize", "通报批评"

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    deadline = models.DateTimeField("针对的截止时间")
    at = models.DateTimeField("发出时间", default=clock.now)

    class Meta:
        ordering = ["problem", "at", "id"]
        verbose_name = "催办督办记录"
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "kind", "deadline"], name="problem_alert_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.kind} {self.deadline:%Y-%m-%d}"


class LedgerReport(models.Model):
    """One daily ledger report to the county (`export_ledger`): the problems of one town that
    were new or changed in (`since`, `until`]. The next report starts where this one ended."""

    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    date = models.DateField("报送日期")
    since = models.DateTimeField("起始时间（不含）", null=True, blank=True)
    until = models.DateTimeField("截止时间（含）")
    row_count = models.PositiveIntegerField("问题数", default=0)
    path = models.CharField("文件", max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["town", "-date"]
        verbose_name = "台账日报"
        constraints = [
            models.UniqueConstraint(fields=["town", "date"], name="ledger_report_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.town_id} {self.date}"


class ProblemSerial(models.Model):
    """The last serial number used per town and year, so codes are unique and never reused."""

    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "问题编号计数"
        constraints = [
            models.UniqueConstraint(fields=["town", "year"], name="problem_serial_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.town_id}-{self.year}: {self.last}"


class Attachment(models.Model):
    """A photo or file attached to a concern (反映) or to one problem event: the unit's 办结
    proof (`handle`) or the visiting cadre's feedback evidence (`feedback`).

    Written only by `ledger.attachments.attachments_add`: images are re-encoded there (no EXIF,
    GPS or XMP survives, the long side is capped), and every file is checked by its bytes, not
    its name. The bytes live in the `attachments` storage under `storage_name` (a random name,
    never the uploader's); pages and the API serve them only through a scoped view.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", "图片"
        FILE = "file", "文件"

    concern = models.ForeignKey(
        "visits.Concern",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    event = models.ForeignKey(
        ProblemEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    # The event's problem, kept beside it so a problem's attachments are one indexed filter.
    problem = models.ForeignKey(
        Problem, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("文件格式", max_length=120)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    storage_name = models.CharField("存储位置", max_length=300, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=clock.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = "附件"
        constraints = [
            # Exactly one owner: a concern, or a problem event (with its problem).
            models.CheckConstraint(
                condition=(
                    Q(concern__isnull=False) & Q(event__isnull=True) & Q(problem__isnull=True)
                )
                | (Q(concern__isnull=True) & Q(event__isnull=False) & Q(problem__isnull=False)),
                name="attachment_exactly_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["image", "file"]), name="attachment_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name
