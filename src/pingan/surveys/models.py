"""Questionnaires as versioned data: questions, options with polarity, conditions, rate groups.

A version that a visit has used is frozen (`frozen_at`): its questions and options never
change again, so every stored answer keeps the meaning it had. Editing a frozen version makes
the next version of the same family (`code`).
"""

from django.db import models
from django.db.models import Q

from pingan.core.models import TimeStamped


class Questionnaire(TimeStamped):
    """One version of a questionnaire family (`code`), e.g. "default" v1 = edition 2021-10."""

    code = models.SlugField("问卷代码", max_length=40)
    version = models.PositiveIntegerField("版本")
    title = models.CharField("标题", max_length=120)
    edition = models.CharField("版次", max_length=40, blank=True, default="")
    # [{"key": "safety", "name": "安全感率", "questions": ["safety"]}, …]
    rates = models.JSONField("率的定义", default=list)
    frozen_at = models.DateTimeField("首次使用时间（此后不可修改）", null=True, blank=True)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = "问卷"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"], name="questionnaire_unique_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="questionnaire_version_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第 {self.version} 版）"

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class Question(models.Model):
    """One question; `show_if_*` makes it conditional on options of an earlier single question."""

    class Kind(models.TextChoices):
        SINGLE = "single", "单选"
        MULTIPLE = "multiple", "多选"
        TEXT = "text", "填空"
        NUMBER = "number", "数字"

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    key = models.SlugField("题目代码", max_length=40)
    number = models.CharField("题号", max_length=8)
    position = models.PositiveSmallIntegerField("顺序")
    text = models.CharField("题目", max_length=300)
    explanation = models.CharField("说明（可读给群众听）", max_length=300, blank=True, default="")
    kind = models.CharField("题型", max_length=16, choices=Kind.choices)
    required = models.BooleanField("必答", default=False)
    category = models.CharField("问题类别", max_length=40, blank=True, default="")
    show_if_question = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="dependents"
    )
    # Labels of `show_if_question`'s options that make this question appear.
    show_if_options = models.JSONField("显示条件", default=list, blank=True)
    min_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["questionnaire", "position"]
        verbose_name = "题目"
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="question_unique_key"),
            models.UniqueConstraint(
                fields=["questionnaire", "position"], name="question_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["single", "multiple", "text", "number"]),
                name="question_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text}"


class Option(models.Model):
    """One answer option, with its polarity and its 100-point score (None where not scored)."""

    class Polarity(models.TextChoices):
        POSITIVE = "+", "正面"
        NEGATIVE = "-", "负面"
        NEUTRAL = "0", "中性"
        UNKNOWN = "?", "说不清"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField("顺序")
    label = models.CharField("选项", max_length=100)
    polarity = models.CharField("倾向", max_length=1, choices=Polarity.choices)
    score = models.PositiveSmallIntegerField("百分制得分", null=True, blank=True)
    # "都没有" cannot be combined with another option of the same question.
    exclusive = models.BooleanField("排他", default=False)
    has_text = models.BooleanField("带文字说明", default=False)
    # Problem category when it differs from the question's (e.g. 黑恶势力 → 扫黑除恶).
    category = models.CharField("问题类别", max_length=40, blank=True, default="")

    class Meta:
        ordering = ["question", "position"]
        verbose_name = "选项"
        constraints = [
            models.UniqueConstraint(fields=["question", "label"], name="option_unique_label"),
            models.UniqueConstraint(fields=["question", "position"], name="option_unique_position"),
            models.CheckConstraint(
                condition=Q(polarity__in=["+", "-", "0", "?"]), name="option_polarity_valid"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=100), name="option_score_le_100"
            ),
            models.CheckConstraint(
                condition=~Q(polarity="?") | Q(score__isnull=True),
                name="option_unknown_has_no_score",
            ),
        ]

    def __str__(self) -> str:
        return self.label
