"""Schemas shared by the routers: the error body and the signed-in user."""

from typing import Any

from ninja import Schema

from pingan.accounts.models import Role, User


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
