"""Encryption at rest for residents' phone and ID numbers.

One master key (32 random bytes, urlsafe base64, from `PINGAN_DATA_KEY`) is stretched with HKDF
into two independent keys: a Fernet key (AES-128-CBC + HMAC-SHA256, from the `cryptography`
package) for the ciphertext, and an HMAC-SHA256 key for the keyed-hash lookup column, so exact
lookups and duplicate checks never need the plaintext in the database.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """The ciphertext was not made with the current key (wrong key, or tampered data)."""


def generate_master_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def check_master_key(value: str) -> str:
    """Return `value` if it is a usable master key, else raise with a clear message."""
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "PINGAN_DATA_KEY 格式不对：应为 32 字节随机数的 urlsafe base64 编码"
            "（可用 `pingan generate_data_key` 生成）。"
        ) from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"PINGAN_DATA_KEY 长度不对：解码后应为 32 字节，实际 {len(raw)} 字节。"
        )
    return value


@functools.lru_cache(maxsize=4)
def _keys(master: str) -> tuple[Fernet, bytes]:
    raw = base64.urlsafe_b64decode(check_master_key(master).encode("ascii"))

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)

    fernet = Fernet(base64.urlsafe_b64encode(derive(b"pingan:encrypt:v1")))
    return fernet, derive(b"pingan:lookup:v1")


def _current() -> tuple[Fernet, bytes]:
    master = getattr(settings, "PINGAN_DATA_KEY", "")
    if not master:
        raise ImproperlyConfigured("未设置 PINGAN_DATA_KEY：无法加密或解密群众个人信息。")
    return _keys(master)


def encrypt(plaintext: str) -> str:
    return _current()[0].encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _current()[0].decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionError("密文无法用当前密钥解密") from exc


def lookup_hash(kind: str, normalized: str) -> str:
    """Keyed hash of a normalized value; `kind` keeps phone and ID hashes apart."""
    mac = hmac.new(_current()[1], f"{kind}:{normalized}".encode(), hashlib.sha256)
    return mac.hexdigest()
