"""The region tree (province > city > county > town > village) and the households in villages."""

from django.db import models
from django.db.models import Q

from pingan.core.models import EncryptedIdNumber, EncryptedPhone, TimeStamped


class Region(TimeStamped):
    """One place in the region tree. `path` holds the codes from the root, for subtree scoping."""

    class Kind(models.TextChoices):
        PROVINCE = "province", "省"
        CITY = "city", "市"
        COUNTY = "county", "县（区）"
        TOWN = "town", "乡镇"
        VILLAGE = "village", "村（社区）"

    # The kind a child of each kind must have.
    CHILD_KIND: dict[str, str] = {
        Kind.PROVINCE: Kind.CITY,
        Kind.CITY: Kind.COUNTY,
        Kind.COUNTY: Kind.TOWN,
        Kind.TOWN: Kind.VILLAGE,
    }

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=64)
    kind = models.CharField("级别", max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # "/34/3416/341623/341623101/": every ancestor's code, so a subtree is one prefix match.
    path = models.CharField("路径", max_length=120, unique=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = "区划"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent"),
            models.CheckConstraint(
                condition=Q(kind="province", parent__isnull=True)
                | (~Q(kind="province") & Q(parent__isnull=False)),
                name="region_only_province_is_root",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["province", "city", "county", "town", "village"]),
                name="region_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, other: "Region") -> bool:
        return other.path.startswith(self.path)


class Household(TimeStamped, EncryptedPhone, EncryptedIdNumber):
    """A household (户) on a village's roster. Phone and ID number are encrypted (see core)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "在住"
        VACANT = "vacant", "空挂户"
        MERGED = "merged", "已合并"

    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="households", verbose_name="村"
    )
    group_no = models.PositiveSmallIntegerField("村民小组", null=True, blank=True)
    address = models.CharField("地址", max_length=200)
    head_name = models.CharField("户主姓名", max_length=64)
    size = models.PositiveSmallIntegerField("家庭人口", default=1)
    tags = models.JSONField("标签", default=list, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    # Made by `pingan demo`, never by a real import; the pages label it as synthetic.
    synthetic = models.BooleanField("合成演示数据", default=False)

    class Meta:
        ordering = ["village", "group_no", "address", "id"]
        verbose_name = "住户"
        indexes = [
            models.Index(fields=["village", "status"]),
            models.Index(fields=["phone_digest"]),
            models.Index(fields=["village", "head_name", "address"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"],
                condition=~Q(id_number_digest="") & ~Q(status="merged"),
                name="household_unique_id_number",
            ),
            models.CheckConstraint(condition=Q(size__gte=1), name="household_size_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "vacant", "merged"]),
                name="household_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True) | Q(lat__gte=-90, lat__lte=90),
                name="household_lat_range",
            ),
            models.CheckConstraint(
                condition=Q(lng__isnull=True) | Q(lng__gte=-180, lng__lte=180),
                name="household_lng_range",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="household_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village_id}:{self.address}"


class ImportBatch(TimeStamped):
    """One real import of a roster file (households or cadres): who, when, what came of it.

    Dry runs write nothing, so they leave no batch. `region` is the uploader's scope (their
    village or town; for the command line, the narrowest region covering the villages the
    file touched): the batch, its change list and its error workbook are shown only to users
    whose scope contains it. The error workbook holds the rejected rows exactly as uploaded
    (personal data included), which is why it never leaves that scope.
    """

    class Kind(models.TextChoices):
        HOUSEHOLDS = "households", "住户花名册"
        CADRES = "cadres", "党员干部名单"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_batches",
        verbose_name="导入人",
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_batches",
        verbose_name="范围",
    )
    file_name = models.CharField("文件名", max_length=255)
    total_rows = models.PositiveIntegerField("数据行", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    rejected_count = models.PositiveIntegerField("拒绝", default=0)
    # {"changes": [...], "rejections": [[row, reason], ...], "truncated": bool}, masked.
    summary = models.JSONField("变更摘要", default=dict, blank=True)
    error_workbook = models.BinaryField("错误行工作簿", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "导入记录"
        indexes = [models.Index(fields=["region", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["households", "cadres"]), name="import_batch_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    total_rows=models.F("created_count")
                    + models.F("updated_count")
                    + models.F("unchanged_count")
                    + models.F("rejected_count")
                ),
                name="import_batch_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def imported_count(self) -> int:
        return self.created_count + self.updated_count + self.unchanged_count
