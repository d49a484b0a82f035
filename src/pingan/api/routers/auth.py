"""Bearer tokens: `POST /auth/token` with a username and password, `POST /auth/revoke`."""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError, HttpError

from pingan.accounts.services import (
    api_token_create,
    api_token_issue,
    api_token_revoke,
    user_change_password,
)
from pingan.api.schemas import ErrorOut, UserOut
from pingan.api.security import AuthedRequest, bearer, bearer_token, login_guard
from pingan.core import clock

router = Router(tags=["auth"])

BAD_CREDENTIALS = "用户名或密码错误"
TOO_MANY_FAILURES = "登录失败次数过多，请 15 分钟后再试"


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(Schema):
    token: str = Field(description="只显示这一次；服务器只保存其 SHA-256 摘要")
    token_type: str = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: dt.datetime
    user: UserOut


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="用户名和密码换取令牌",
)
def token_issue(request: HttpRequest, payload: TokenIn):
    if login_guard.blocked(payload.username):
        raise HttpError(429, TOO_MANY_FAILURES)
    issued = api_token_issue(username=payload.username, password=payload.password)
    if issued is None:
        login_guard.failed(payload.username)
        raise AuthenticationError(message=BAD_CREDENTIALS)
    login_guard.succeeded(payload.username)
    token, record = issued
    return {
        "token": token,
        "token_type": "bearer",
        "expires_at": clock.local(record.expires_at),
        "user": record.user,
    }


@router.post("/revoke", auth=bearer, response={204: None, 401: ErrorOut}, summary="注销当前令牌")
def token_revoke(request: AuthedRequest):
    api_token_revoke(user=request.auth, token=bearer_token(request) or "")
    return HttpResponse(status=204)


class PasswordChangeIn(Schema):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


@router.post(
    "/password",
    auth=bearer,
    response={200: TokenOut, 401: ErrorOut, 422: ErrorOut},
    summary="修改密码（首次登录必须修改初始密码）",
)
def password_change(request: AuthedRequest, payload: PasswordChangeIn):
    """Every token of the user ends with the old password; the answer carries a new one."""
    user = request.auth
    if not user.check_password(payload.old_password):
        raise HttpError(422, "原密码不正确")
    if payload.new_password == payload.old_password:
        raise HttpError(422, "新密码不能与原密码相同")
    try:
        validate_password(payload.new_password, user)
    except DjangoValidationError as exc:
        raise HttpError(422, "；".join(exc.messages)) from exc
    user_change_password(user=user, new_password=payload.new_password)
    token, record = api_token_create(user=user)
    return {
        "token": token,
        "token_type": "bearer",
        "expires_at": clock.local(record.expires_at),
        "user": record.user,
    }
