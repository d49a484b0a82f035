"""Writes to the region tree and households. Every write runs in a transaction."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from pingan.accounts.models import User
from pingan.accounts.selectors import user_can_reveal_personal_data
from pingan.core import pii
from pingan.core.services import pii_access_log
from pingan.regions.models import Household, Region


class RegionError(ValueError):
    """A region tree change that would break the tree; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def region_path(*, parent: Region | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


@transaction.atomic
def region_ensure(
    *, code: str, name: str, kind: str, parent: Region | None, sort_order: int = 0
) -> tuple[Region, bool]:
    """The region with `code`, created if missing. Returns (region, created).

    An existing region with the same code must have the same name, kind and parent; a
    mismatch is an error, never a silent overwrite.
    """
    expected_kind = Region.CHILD_KIND.get(parent.kind) if parent else Region.Kind.PROVINCE
    if expected_kind is None:
        raise RegionError(f"“{parent.name if parent else ''}”是村（社区），其下不能再设区划")
    if kind != expected_kind:
        raise RegionError(f"“{name}”的级别应为{Region.Kind(expected_kind).label}")
    existing = Region.objects.filter(code=code).first()
    if existing is not None:
        if (existing.name, existing.kind, existing.parent_id) != (
            name,
            kind,
            parent.pk if parent else None,
        ):
            raise RegionError(
                f"区划代码 {code} 已属于“{existing.name}”，与“{name}”不一致，未做任何修改"
            )
        return existing, False
    region = Region.objects.create(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        path=region_path(parent=parent, code=code),
        sort_order=sort_order,
    )
    return region, True


@dataclass
class HouseholdData:
    """One household as it arrives (from the demo generator now, from an import later)."""

    village: Region
    head_name: str
    address: str
    group_no: int | None = None
    phone: str = ""
    id_number: str = ""
    size: int = 1
    tags: list[str] = field(default_factory=list)
    lat: float | None = None
    lng: float | None = None
    synthetic: bool = False


def household_build(
    data: HouseholdData,
    *,
    sealed_phone: pii.Sealed | None = None,
    sealed_id_number: pii.Sealed | None = None,
) -> Household:
    """An unsaved Household with its personal data sealed; raises PersonalDataError.

    A caller that has already validated the phone or ID number (the roster import) passes it
    sealed, so the same number is not validated twice.
    """
    if data.village.kind != Region.Kind.VILLAGE:
        raise RegionError(f"“{data.village.name}”不是村（社区），不能登记住户")
    household = Household(
        village=data.village,
        group_no=data.group_no,
        address=data.address.strip(),
        head_name=data.head_name.strip(),
        size=data.size,
        tags=list(data.tags),
        lat=data.lat,
        lng=data.lng,
        synthetic=data.synthetic,
    )
    if sealed_phone is None and data.phone:
        sealed_phone = pii.seal_phone(data.phone)
    if sealed_id_number is None and data.id_number:
        sealed_id_number = pii.seal_id_number(data.id_number)
    household.set_phone(sealed_phone)
    household.set_id_number(sealed_id_number)
    return household


@transaction.atomic
def household_create(*, data: HouseholdData) -> Household:
    household = household_build(data)
    household.full_clean(exclude=["village", "merged_into"], validate_unique=False)
    household.save()
    return household


@transaction.atomic
def household_create_many(*, rows: Iterable[HouseholdData], batch_size: int = 1000) -> int:
    """Create many households in bulk (one INSERT per batch). All or nothing."""
    created = 0
    batch: list[Household] = []
    for data in rows:
        batch.append(household_build(data))
        if len(batch) >= batch_size:
            created += len(Household.objects.bulk_create(batch))
            batch = []
    if batch:
        created += len(Household.objects.bulk_create(batch))
    return created


class PersonalDataDenied(PermissionError):
    """The actor's role may not see unmasked personal data."""


def household_reveal_pii(
    *, actor: User, household: Household, field: str, purpose: str, ip_address: str | None
) -> str:
    """The full phone or ID number of a household the actor can already see; logged.

    Callers fetch `household` through `household_list(user=actor)`, so scope holds here.
    """
    if not user_can_reveal_personal_data(actor):
        raise PersonalDataDenied("您的角色无权查看完整个人信息")
    ciphertext = {
        pii.PHONE: household.phone_ciphertext,
        pii.ID_NUMBER: household.id_number_ciphertext,
    }[field]
    return pii_access_log(
        actor=actor,
        subject_type="household",
        subject_id=household.pk,
        field=field,
        ciphertext=ciphertext,
        purpose=purpose,
        ip_address=ip_address,
    )
