"""Visits (走访) with their answers and paradata, exactly once per client uuid."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from pingan.core import clock
from pingan.core.models import EncryptedPhone, TimeStamped


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


class Concern(TimeStamped, EncryptedPhone):
    """反映: what one visit, one phone call or one walk-in brought in for one household.

    A visit with negative answers, matters the resident described or an opinion makes exactly
    one concern, with an item for each (`ConcernItem`). The town center triages it (梳理) into
    one outcome (`Outcome`): a new problem, joined to an open one, a talk by the visiting cadre
    (思想工作), or declined. The triage services live in the ledger (`ledger.triage`), which
    records who decided and when here, and links the concern to its problem.

    A caller's name and callback number are personal data: the number is sealed like a
    resident's (ciphertext, keyed hash, masked form), the name is encrypted and masked.
    """

    class Source(models.TextChoices):
        VISIT = "visit", "走访"
        PHONE = "phone", "来电"
        WALK_IN = "walk_in", "来访"

    class Outcome(models.TextChoices):
        FILE = "file", "立案"
        MERGE = "merge", "并案"
        TALK = "talk", "思想工作"
        DECLINE = "decline", "不予立案"

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="concerns"
    )
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "regions.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concerns",
    )
    visit = models.OneToOneField(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="concern"
    )
    # The visiting cadre: takes results back to the household and does the 思想工作.
    cadre = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    category = models.CharField("类别", max_length=40, blank=True, default="")
    text = models.TextField("群众原话", blank=True, default="")
    caller_name_ciphertext = models.TextField("来电来访人（密文）", blank=True, default="")
    caller_name_masked = models.CharField("来电来访人", max_length=64, blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField("反映时间", default=clock.now)
    # Triage (梳理): empty until the town center decides.
    outcome = models.CharField(
        "梳理结果", max_length=16, choices=Outcome.choices, blank=True, default=""
    )
    outcome_note = models.CharField("梳理说明", max_length=500, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("梳理时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    # A phone or walk-in report's idempotency key from the client (`POST /api/v1/concerns`):
    # one concern per reporter and key, so a retried request never records a second one.
    client_key = models.CharField("客户端幂等键", max_length=64, blank=True, default="")

    class Meta:
        ordering = ["reported_at", "id"]
        verbose_name = "群众反映"
        indexes = [
            models.Index(fields=["campaign", "outcome", "reported_at"]),
            models.Index(fields=["village", "outcome"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["visit", "phone", "walk_in"]), name="concern_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "file", "merge", "talk", "decline"]),
                name="concern_outcome_valid",
            ),
            # A decision always says when it was taken; an open concern has no decision time.
            models.CheckConstraint(
                condition=(Q(outcome="") & Q(decided_at__isnull=True))
                | (~Q(outcome="") & Q(decided_at__isnull=False)),
                name="concern_decided_when_triaged",
            ),
            models.CheckConstraint(
                condition=~Q(source="visit") | Q(visit__isnull=False),
                name="concern_from_a_visit_has_it",
            ),
            models.UniqueConstraint(
                fields=["reported_by", "client_key"],
                condition=~Q(client_key=""),
                name="concern_client_key_once_per_reporter",
            ),
        ]

    def __str__(self) -> str:
        return f"concern {self.pk}"

    @property
    def triaged(self) -> bool:
        return bool(self.outcome)


class ConcernItem(models.Model):
    """One thing a concern holds: a negative answer, a matter the resident described, or the
    resident's opinion. A negative answer to a single-choice question is a feeling (感受: 不太
    安全, 不满意…) with nothing concrete to fix; a checked option of a multiple-choice question
    (赌博, 盗窃抢劫…), a described matter and an opinion are matters (事项)."""

    class Kind(models.TextChoices):
        ANSWER = "answer", "问卷回答"
        MATTER = "matter", "反映事项"
        OPINION = "opinion", "意见建议"

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    question = models.ForeignKey(
        "surveys.Question", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    option = models.ForeignKey(
        "surveys.Option", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField("内容")
    category = models.CharField("类别", max_length=40, blank=True, default="")
    feeling = models.BooleanField("感受（无具体事项）", default=False)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        ordering = ["concern", "position", "id"]
        verbose_name = "反映内容"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["answer", "matter", "opinion"]),
                name="concern_item_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="answer") | Q(option__isnull=False),
                name="concern_item_answer_has_option",
            ),
            # Every negative answer of a visit is on exactly one item.
            models.UniqueConstraint(
                fields=["concern", "option"],
                condition=Q(kind="answer"),
                name="concern_item_answer_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concern_id}:{self.kind}"


class ThoughtWork(TimeStamped):
    """思想工作: a resident unhappy with nothing concrete to fix (\"不太安全\" with no reason), or
    whose concern also carried such feelings. The visiting cadre talks with them face to face
    and records the date, what was said, and whether their view changed (转变 / 未转变)."""

    class View(models.TextChoices):
        CHANGED = "changed", "已转变"
        UNCHANGED = "unchanged", "未转变"

    concern = models.OneToOneField(Concern, on_delete=models.PROTECT, related_name="thought_work")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "regions.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cadre = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    talked_on = models.DateField("谈话日期", null=True, blank=True)
    notes = models.TextField("谈话内容", blank=True, default="")
    view = models.CharField("群众看法", max_length=16, choices=View.choices, blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "思想工作"
        indexes = [models.Index(fields=["cadre", "recorded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(view__in=["", "changed", "unchanged"]),
                name="thought_work_view_valid",
            ),
            models.CheckConstraint(
                condition=(Q(recorded_at__isnull=True) & Q(view=""))
                | (Q(recorded_at__isnull=False) & ~Q(view="") & Q(talked_on__isnull=False)),
                name="thought_work_recorded_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"thought work {self.pk}"
