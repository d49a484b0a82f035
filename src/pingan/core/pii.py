"""Residents' personal data: normalize, validate, seal (encrypt + keyed hash + mask), and mask.

Validation uses python-stdnum (居民身份证 checksum, birth date, length) and phonenumbers (CN),
never hand-written rules. What leaves this module for a screen is masked: 138****5678,
341***********1234, 张*. Unmasking goes through `pingan.core.services.pii_reveal`, which logs it.
"""

import functools
import unicodedata
from dataclasses import dataclass

import phonenumbers
from stdnum import exceptions as stdnum_exc
from stdnum import numdb
from stdnum.cn import ric
from stdnum.util import isdigits

from pingan.core import crypto

PHONE = "phone"
ID_NUMBER = "id_number"


class PersonalDataError(ValueError):
    """A phone or ID number that cannot be trusted; `message` is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sealed:
    """What the database stores for one value: ciphertext, keyed hash, and the masked form."""

    ciphertext: str
    digest: str
    masked: str
    normalized: str


def clean_text(value: object) -> str:
    """Full-width digits, letters and spaces to half-width (NFKC), inner spaces removed."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(text.split())


def normalize_phone(value: object) -> str:
    """A valid mainland number as its national digits: 13812345678, 05581234567."""
    text = clean_text(value).replace("-", "")
    if not text:
        raise PersonalDataError("手机号为空")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise PersonalDataError(f"手机号“{text}”无法识别") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise PersonalDataError(f"手机号“{text}”不是有效的中国大陆号码")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


_ID_ERRORS: dict[type[Exception], str] = {
    stdnum_exc.InvalidChecksum: "校验位不对",
    stdnum_exc.InvalidLength: "位数不对（应为 18 位）",
    stdnum_exc.InvalidFormat: "含有非法字符",
    stdnum_exc.InvalidComponent: "出生日期或地区码无效",
}


@functools.lru_cache(maxsize=4096)
def _area_code_known(code: str) -> bool:
    """Whether the national code list has ever had this 6-digit area code."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def _validate_known_area(text: str) -> str:
    """`ric.validate` for a number whose area code the code list knows (cached above), minus
    its birth-place lookup: with the rule below, a known area code is accepted whatever the
    birth year, and that lookup (a scan of the national code list) was most of the time a
    100,000-row roster import spent on ID numbers. Length, characters, checksum and birth
    date are still python-stdnum's checks, in its order.
    """
    number = ric.compact(text)
    if len(number) != 18:
        raise stdnum_exc.InvalidLength()
    if not isdigits(number[:-1]):
        raise stdnum_exc.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise stdnum_exc.InvalidChecksum()
    ric.get_birth_date(number)
    return number


def normalize_id_number(value: object) -> str:
    """A valid 18-digit 居民身份证号码, upper-case X check digit."""
    text = clean_text(value).upper()
    if not text:
        raise PersonalDataError("身份证号为空")
    try:
        if _area_code_known(text[:6]):
            return _validate_known_area(text)
        try:
            return str(ric.validate(text))
        except stdnum_exc.InvalidComponent:
            # stdnum also insists the area code existed in the birth year. Real numbers break
            # that rule: people born in 利辛县 before 2000 who were first issued an ID after
            # the code changed carry 341623. Keep the birth-date check, and accept any area
            # code the national code list has ever known.
            ric.get_birth_date(text)
            if not _area_code_known(text[:6]):
                raise
            return text
    except stdnum_exc.ValidationError as exc:
        reason = next((msg for cls, msg in _ID_ERRORS.items() if isinstance(exc, cls)), "无效")
        raise PersonalDataError(f"身份证号“{mask_id_number(text)}”{reason}") from exc


def mask_phone(value: str) -> str:
    """138****5678: the first three and the last four digits stay."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str) -> str:
    """341***********1234: the first three and the last four characters stay."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张*: the family name stays, every other character becomes one *."""
    value = value.strip()
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


def seal_phone(value: object) -> Sealed:
    normalized = normalize_phone(value)
    return Sealed(
        ciphertext=crypto.encrypt(normalized),
        digest=crypto.lookup_hash(PHONE, normalized),
        masked=mask_phone(normalized),
        normalized=normalized,
    )


def seal_id_number(value: object) -> Sealed:
    normalized = normalize_id_number(value)
    return Sealed(
        ciphertext=crypto.encrypt(normalized),
        digest=crypto.lookup_hash(ID_NUMBER, normalized),
        masked=mask_id_number(normalized),
        normalized=normalized,
    )


def phone_digest(value: object) -> str:
    """The lookup hash of a phone number as typed, for exact search and duplicate checks."""
    return crypto.lookup_hash(PHONE, normalize_phone(value))


def id_number_digest(value: object) -> str:
    return crypto.lookup_hash(ID_NUMBER, normalize_id_number(value))
