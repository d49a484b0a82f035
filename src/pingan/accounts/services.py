"""Writes for users, people (cadres), units and API tokens."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction

from pingan.accounts.models import ROLE_REGION_KIND, ApiToken, Person, Role, Unit, User
from pingan.core import clock, pii
from pingan.regions.models import Region


class AccountError(ValueError):
    """An account change that breaks a rule; `message` is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    region: Region,
    password: str | None,
    full_name: str = "",
    unit: Unit | None = None,
    must_change_password: bool = False,
) -> User:
    """A user with one role scoped to `region`. `password=None` makes a login-less account."""
    if role not in Role.values:
        raise AccountError(f"未知角色“{role}”")
    if region.kind != ROLE_REGION_KIND[role]:
        raise AccountError(
            f"{Role(role).label}应设在{Region.Kind(ROLE_REGION_KIND[role]).label}一级，"
            f"“{region.name}”是{region.get_kind_display()}"
        )
    if role == Role.UNIT_HANDLER and unit is None:
        raise AccountError("责任单位账号必须指定所属单位")
    if unit is not None and not (
        region.path.startswith(unit.region.path) or unit.region.path.startswith(region.path)
    ):
        raise AccountError(f"单位“{unit.name}”不在“{region.name}”辖区内")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"用户名“{username}”已被使用")
    user = User(
        username=username,
        role=role,
        region=region,
        unit=unit,
        full_name=full_name,
        must_change_password=must_change_password,
        date_joined=clock.now(),
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    """Set a new password, clear the first-login flag, and end every API token of the user.

    Django ends the user's other sessions itself (the session hash changes); tokens issued
    under the old password must not outlive it either.
    """
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())


def person_build(
    *,
    name: str,
    visit_village: Region,
    phone: str = "",
    party_member: bool = True,
    home_village: Region | None = None,
    home_unit: Unit | None = None,
    user: User | None = None,
    synthetic: bool = False,
) -> Person:
    """An unsaved cadre profile with the phone sealed; raises PersonalDataError or AccountError."""
    if visit_village.kind != Region.Kind.VILLAGE:
        raise AccountError(f"走访村“{visit_village.name}”不是村（社区）")
    if home_village is None and home_unit is None:
        home_village = visit_village
    person = Person(
        name=name.strip(),
        visit_village=visit_village,
        party_member=party_member,
        home_village=home_village,
        home_unit=home_unit,
        user=user,
        synthetic=synthetic,
    )
    person.set_phone(pii.seal_phone(phone) if phone else None)
    return person


@transaction.atomic
def person_create(**kwargs) -> Person:
    person = person_build(**kwargs)
    person.save()
    return person


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_issue(*, username: str, password: str) -> tuple[str, ApiToken] | None:
    """A new bearer token for valid credentials, or None. The token itself is never stored."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        return None
    return api_token_create(user=user)


@transaction.atomic
def api_token_create(*, user: User) -> tuple[str, ApiToken]:
    """A new bearer token for a user already proven to be who they are."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    record = ApiToken.objects.create(
        user=user,
        digest=_token_digest(token),
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.PINGAN_API_TOKEN_TTL_HOURS),
    )
    return token, record


def api_token_authenticate(*, token: str) -> User | None:
    """The active user behind a bearer token that has not expired or been revoked."""
    if not token:
        return None
    now = clock.now()
    record = (
        ApiToken.objects.select_related("user", "user__region", "user__unit")
        .filter(digest=_token_digest(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if record is None or not record.user.is_active:
        return None
    if record.last_used_at is None or now - record.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


@transaction.atomic
def api_token_revoke(*, user: User, token: str) -> bool:
    return bool(
        ApiToken.objects.filter(
            user=user, digest=_token_digest(token), revoked_at__isnull=True
        ).update(revoked_at=clock.now())
    )
