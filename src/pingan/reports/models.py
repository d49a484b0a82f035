"""The daily bulletin (每日通报): one town's figures on one day, frozen when published."""

from django.conf import settings
from django.db import models
from django.db.models import Q

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
