"""Schemas shared by the routers: the error body, the signed-in user, references to a place or
a person, a household with its personal data masked, and Beijing-time datetimes."""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, WithJsonSchema

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.core.pii import mask_name
from pingan.regions.models import Household


class ErrorItem(Schema):
    loc: list[Any]
    msg: str
    type: str


class ErrorOut(Schema):
    """Every error answer (docs/operations.md): a Chinese `detail` and, for invalid input, the fields."""

    detail: str
    errors: list[ErrorItem]


class RoleOut(Schema):
    code: str
    label: str


class RegionOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class UnitOut(Schema):
    id: int
    name: str
    kind: str


class UserOut(Schema):
    """The caller as the API sees them: who, which role, which region (their scope)."""

    id: int
    username: str
    full_name: str
    role: RoleOut | None
    region: RegionOut | None
    unit: UnitOut | None
    must_change_password: bool

    @staticmethod
    def resolve_role(user: User) -> dict[str, str] | None:
        if not user.role:
            return None
        return {"code": user.role, "label": Role(user.role).label}


# ---------------------------------------------------------------------------------------------
# Shared by the ledger, concern and talk routers: references, masked households, local times,
# and codes documented as enums.

# Datetimes leave the API in Beijing time (+08:00), as the rest of the API writes them.
LocalDateTime = Annotated[dt.datetime, AfterValidator(clock.local)]


def errors_for(*statuses: int) -> dict[int, type[ErrorOut]]:
    """`{401: ErrorOut, 404: ErrorOut, …}` for an operation's documented error answers."""
    return {status: ErrorOut for status in statuses}


def choices_text(labels: Mapping[str, str]) -> str:
    """`code（label）、…`: the choices as a description says them."""
    return "、".join(f"{code}（{label}）" for code, label in labels.items())


def enum_schema(codes: Iterable[Any]) -> WithJsonSchema:
    """Documents a text field as an enum of `codes` (validated with a Chinese message elsewhere)."""
    return WithJsonSchema({"type": "string", "enum": [str(code) for code in codes]})


def one_of(labels: Mapping[str, str], what: str) -> Callable[[str | None], str | None]:
    """A validator: nothing or one of `labels`' codes, refused in Chinese otherwise."""

    def check(value: str | None) -> str | None:
        if value and value not in labels:
            raise ValueError(f"{what}只能是：{choices_text(labels)}")
        return value

    return check


class Ref(Schema):
    id: int
    name: str


class HouseholdRef(Schema):
    id: int
    address: str
    head_name: str = Field(description="户主姓名（已脱敏）")
    phone_masked: str = Field(description="手机号（已脱敏）")

    @staticmethod
    def resolve_head_name(household: Household) -> str:
        return mask_name(household.head_name)
