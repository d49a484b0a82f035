"""Who is calling: a bearer token (`POST /auth/token`) or the back office's own session.

A token that is present but invalid, expired or revoked is refused with 401 at once, even when
a session cookie rides along, so a client never silently acts as someone else. The session is
accepted so the back office's pages can call the API; unsafe methods then need the CSRF token.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from pingan.accounts.models import User
from pingan.accounts.services import api_token_authenticate

REFUSED_BEARER = "令牌无效、已过期或已注销，请重新获取"
MUST_CHANGE_PASSWORD = "请先修改初始密码（POST /api/v1/auth/password）"  # noqa: S105
# What a user who still holds a one-time initial password may call.
ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset(
    {"/api/v1/me", "/api/v1/auth/password", "/api/v1/auth/revoke"}
)


def require_own_password(request: HttpRequest, user: User) -> User:
    """A one-time initial password opens only /me and the password change (like the pages)."""
    if user.must_change_password and request.path not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        raise HttpError(403, MUST_CHANGE_PASSWORD)
    return user


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AuthedRequest(HttpRequest):
    """What a handler behind `bearer`/`session` receives: `auth` is the signed-in user."""

    auth: User


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`, checked against the token's stored SHA-256 digest."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_authenticate(token=token.strip())
        if user is None:
            raise AuthenticationError(message=REFUSED_BEARER)
        return require_own_password(request, user)


class DjangoSession(AuthBase):
    """The back office's signed-in session; unsafe methods must carry the CSRF token."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = settings.SESSION_COOKIE_NAME
    csrf = True  # tells the docs page to send the CSRF token

    def __call__(self, request: HttpRequest) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(403, "CSRF 校验失败，请刷新页面后重试")
        return require_own_password(request, user)


bearer = BearerToken()
session = DjangoSession()


class LoginGuard:
    """Refuses token requests for a username after `limit` failures within `window`.

    Counted in Django's cache (per process with the default local-memory cache; share a cache
    such as Redis between processes in production). A success clears the count.
    """

    def __init__(self, *, limit: int = 5, window: dt.timedelta = dt.timedelta(minutes=15)):
        self.limit = limit
        self.window = window

    def _key(self, username: str) -> str:
        digest = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()
        return f"pingan:api:login-failures:{digest}"

    def blocked(self, username: str) -> bool:
        return int(cache.get(self._key(username), 0)) >= self.limit

    def failed(self, username: str) -> None:
        key = self._key(username)
        if not cache.add(key, 1, timeout=int(self.window.total_seconds())):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=int(self.window.total_seconds()))

    def succeeded(self, username: str) -> None:
        cache.delete(self._key(username))


login_guard = LoginGuard()
