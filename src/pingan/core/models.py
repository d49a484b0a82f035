"""Abstract building blocks shared by the domain models, and the personal-data access log."""

from typing import Any

from django.conf import settings
from django.db import models

from pingan.core import clock
from pingan.core.pii import Sealed


class TimeStamped(models.Model):
    """`created_at` / `updated_at`, from the one clock."""

    created_at = models.DateTimeField("创建时间", default=clock.now, editable=False)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.updated_at = clock.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "updated_at"}
        super().save(*args, **kwargs)


class EncryptedPhone(models.Model):
    """A phone number kept as ciphertext, keyed hash and masked form; never as plaintext."""

    phone_ciphertext = models.TextField("手机号（密文）", blank=True, default="")
    phone_digest = models.CharField("手机号（查询哈希）", max_length=64, blank=True, default="")
    phone_masked = models.CharField("手机号", max_length=24, blank=True, default="")

    class Meta:
        abstract = True

    def set_phone(self, sealed: Sealed | None) -> None:
        self.phone_ciphertext = sealed.ciphertext if sealed else ""
        self.phone_digest = sealed.digest if sealed else ""
        self.phone_masked = sealed.masked if sealed else ""


class EncryptedIdNumber(models.Model):
    """An ID number kept as ciphertext, keyed hash and masked form; never as plaintext."""

    id_number_ciphertext = models.TextField("身份证号（密文）", blank=True, default="")
    id_number_digest = models.CharField(
        "身份证号（查询哈希）", max_length=64, blank=True, default=""
    )
    id_number_masked = models.CharField("身份证号", max_length=24, blank=True, default="")

    class Meta:
        abstract = True

    def set_id_number(self, sealed: Sealed | None) -> None:
        self.id_number_ciphertext = sealed.ciphertext if sealed else ""
        self.id_number_digest = sealed.digest if sealed else ""
        self.id_number_masked = sealed.masked if sealed else ""


class PersonalDataAccess(models.Model):
    """One unmasked view of a resident's or cadre's phone or ID number: who, what, when, why."""

    class Field(models.TextChoices):
        PHONE = "phone", "手机号"
        ID_NUMBER = "id_number", "身份证号"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pii_accesses"
    )
    subject_type = models.CharField("对象类型", max_length=32)
    subject_id = models.BigIntegerField("对象编号")
    field = models.CharField("字段", max_length=16, choices=Field.choices)
    purpose = models.CharField("用途", max_length=200, blank=True, default="")
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    at = models.DateTimeField("查看时间", default=clock.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "个人信息查看记录"
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.subject_type}#{self.subject_id} {self.field}"
