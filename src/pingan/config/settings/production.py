"""Production: PostgreSQL from `DATABASE_URL`, and no start without the keys it needs."""

import os

from django.core.exceptions import ImproperlyConfigured

from pingan.core.crypto import check_master_key

from .base import *  # noqa: F403

DEBUG = False


def _require(name: str, why: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(
            f"缺少环境变量 {name}：{why}。生产环境拒绝启动。 (missing {name})"
        )
    return value


SECRET_KEY = _require("DJANGO_SECRET_KEY", "用于会话和签名的密钥")
PINGAN_DATA_KEY = check_master_key(
    _require(
        "PINGAN_DATA_KEY",
        "用于加密群众手机号和身份证号的数据密钥，请用 `pingan generate_data_key` 生成并妥善保管",
    )
)
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("缺少环境变量 DATABASE_URL：生产环境须使用 PostgreSQL。")
if not ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("缺少环境变量 PINGAN_ALLOWED_HOSTS：请填写对外访问的域名或 IP。")
SESSION_COOKIE_SECURE = os.environ.get("PINGAN_HTTPS", "1") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The task queue lives on Redis (PINGAN_TASKS_URL=redis://…) or, by default, on the same
# PostgreSQL as the data, in its own huey_* tables: still no extra server to run.
if not os.environ.get("PINGAN_TASKS_URL"):
    HUEY = {
        **HUEY,  # noqa: F405
        "huey_class": "huey.PostgresHuey",
        "dsn": os.environ["DATABASE_URL"],
    }
    HUEY.pop("filename", None)
