"""Users and their roles, people (cadres), responsible units, and API tokens."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from pingan.core import clock
from pingan.core.models import EncryptedPhone, TimeStamped
from pingan.regions.models import Region


class Role(models.TextChoices):
    """The roles of docs/architecture.md. Each user holds one, scoped to a place in the region tree."""

    TOWN_ADMIN = "town_admin", "镇综治中心"
    LEADER = "leader", "领导小组"
    VILLAGE_ADMIN = "village_admin", "村管理员"
    CADRE = "cadre", "走访干部"
    UNIT_HANDLER = "unit_handler", "责任单位"
    COUNTY_VIEWER = "county_viewer", "县综治中心"


# The kind of region each role is scoped to.
ROLE_REGION_KIND: dict[str, str] = {
    Role.TOWN_ADMIN: Region.Kind.TOWN,
    Role.LEADER: Region.Kind.TOWN,
    Role.VILLAGE_ADMIN: Region.Kind.VILLAGE,
    Role.CADRE: Region.Kind.VILLAGE,
    Role.UNIT_HANDLER: Region.Kind.TOWN,
    Role.COUNTY_VIEWER: Region.Kind.COUNTY,
}


class Unit(TimeStamped):
    """A responsible unit (责任单位): 派出所, 司法所, a 镇直 office, or a county department."""

    class Kind(models.TextChoices):
        GOVERNANCE = "governance", "综治中心"
        POLICE = "police", "派出所"
        JUSTICE = "justice", "司法所"
        TOWN_OFFICE = "town_office", "镇直单位"
        COUNTY_DEPT = "county_dept", "县直部门"

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="units", verbose_name="所属区划"
    )
    name = models.CharField("单位名称", max_length=64)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    active = models.BooleanField("在用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        ordering = ["region", "sort_order", "name"]
        verbose_name = "责任单位"
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="unit_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser, EncryptedPhone):
    """A person who signs in. `region` is the subtree they may see; `role` what they may do.
    The phone (encrypted like residents') is where text messages go; a cadre without one
    falls back to their Person profile's phone."""

    full_name = models.CharField("姓名", max_length=64, blank=True, default="")
    role = models.CharField("角色", max_length=16, choices=Role.choices, blank=True, default="")
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="管辖区划",
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="所属单位",
    )
    must_change_password = models.BooleanField("首次登录须改密码", default=False)

    class Meta:
        ordering = ["username"]
        verbose_name = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(role="") | Q(region__isnull=False), name="user_role_needs_region"
            ),
            models.CheckConstraint(
                condition=~Q(role="unit_handler") | Q(unit__isnull=False),
                name="user_unit_handler_needs_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username


class Person(TimeStamped, EncryptedPhone):
    """A party member or cadre who visits (党员干部): from a village or from a town unit (包村)."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="person"
    )
    name = models.CharField("姓名", max_length=64)
    party_member = models.BooleanField("党员", default=True)
    home_village = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所在村",
    )
    home_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        verbose_name="所在单位",
    )
    visit_village = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="cadres",
        verbose_name="走访村",
    )
    active = models.BooleanField("在岗", default=True)
    synthetic = models.BooleanField("合成演示数据", default=False)

    class Meta:
        ordering = ["visit_village", "name", "id"]
        verbose_name = "党员干部"
        constraints = [
            models.CheckConstraint(
                condition=Q(home_village__isnull=False) | Q(home_unit__isnull=False),
                name="person_has_home_village_or_unit",
            ),
        ]
        indexes = [models.Index(fields=["visit_village", "active"])]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "接口令牌"
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="token_expires_after"
            )
        ]

    def __str__(self) -> str:
        return f"token#{self.pk} for {self.user_id}"


class InitialPasswordSheet(TimeStamped):
    """The one-time initial passwords of the accounts one cadre import created in one village.

    The passwords are never stored in plaintext: `payload_ciphertext` is the list of
    (name, username, password) encrypted with `pingan.core.crypto`. The importing user and
    the village's admins may download it as .xlsx (each download is logged in
    `InitialPasswordSheetDownload`); discarding it erases the ciphertext for good.
    """

    batch = models.ForeignKey(
        "regions.ImportBatch",
        on_delete=models.CASCADE,
        related_name="password_sheets",
        verbose_name="导入记录",
    )
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="村"
    )
    account_count = models.PositiveIntegerField("账号数", default=0)
    payload_ciphertext = models.TextField("初始密码（密文）", blank=True, default="")
    discarded_at = models.DateTimeField("销毁时间", null=True, blank=True)
    discarded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "初始密码表"
        constraints = [
            models.UniqueConstraint(fields=["batch", "village"], name="password_sheet_unique"),
            models.CheckConstraint(
                condition=Q(discarded_at__isnull=True) | Q(payload_ciphertext=""),
                name="password_sheet_discarded_is_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"password sheet #{self.pk} ({self.village_id})"


class InitialPasswordSheetDownload(models.Model):
    """One download of an initial password sheet: who, when, from where."""

    sheet = models.ForeignKey(
        InitialPasswordSheet, on_delete=models.CASCADE, related_name="downloads"
    )
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    at = models.DateTimeField("下载时间", default=clock.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "初始密码表下载记录"

    def __str__(self) -> str:
        return f"{self.actor_id} sheet#{self.sheet_id}"


class Notification(models.Model):
    """One message in a user's in-app inbox (站内消息). `key` makes a notice idempotent:
    the same key is never delivered twice to the same user."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField("类型", max_length=24)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True, default="")
    link = models.CharField("链接", max_length=300, blank=True, default="")
    key = models.CharField("去重键", max_length=120)
    created_at = models.DateTimeField("时间", default=clock.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "站内消息"
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.title}"
