"""Masking, validation (python-stdnum, phonenumbers) and sealing of personal data."""

import pytest

from pingan.core import crypto, pii
from tests.factories import valid_id_number

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("13812345678", "138****5678"), ("05581234567", "055****4567"), ("1234", "****")],
)
def test_mask_phone(raw, masked):
    assert pii.mask_phone(raw) == masked


def test_mask_id_number():
    assert pii.mask_id_number("341623197001010014") == "341***********0014"


@pytest.mark.parametrize(
    ("raw", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("王", "王*"), (" ", "")]
)
def test_mask_name(raw, masked):
    assert pii.mask_name(raw) == masked


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_phone_forms_normalize_to_the_same_number(raw):
    assert pii.normalize_phone(raw) == "13812345678"


def test_landline_keeps_its_area_code():
    assert pii.normalize_phone("0558-8123456") == "05588123456"


@pytest.mark.parametrize("raw", ["12345678901", "1381234567", "abc", "99999999999"])
def test_impossible_phone_is_refused_in_chinese(raw):
    with pytest.raises(pii.PersonalDataError, match="手机号"):
        pii.normalize_phone(raw)


def test_id_number_lower_case_x_and_full_width_digits():
    body = "11010119900307447"
    number = valid_id_number(447, birth="19900307", area="110101")
    assert number.startswith(body[:14])
    wide = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    assert pii.normalize_id_number(wide) == number


def test_id_number_x_check_digit_is_upper_cased():
    # 11010519491231002X is the standard's own example with an X check digit.
    assert pii.normalize_id_number("11010519491231002x") == "11010519491231002X"


def test_id_number_bad_checksum():
    number = valid_id_number(12)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(pii.PersonalDataError, match="校验位不对"):
        pii.normalize_id_number(wrong)


def test_id_number_from_excel_scientific_notation_is_refused():
    with pytest.raises(pii.PersonalDataError, match="身份证号"):
        pii.normalize_id_number("3.41623E+17")


def test_id_number_impossible_birth_date():
    body = "34162319701301001"  # month 13
    from stdnum.cn import ric

    with pytest.raises(pii.PersonalDataError, match="出生日期或地区码无效"):
        pii.normalize_id_number(body + ric.calc_check_digit(body + "0"))


def test_id_number_area_code_issued_after_birth_is_accepted():
    # 341623 (利辛县) exists since 2000; residents born earlier commonly carry it.
    number = valid_id_number(3, birth="19650615", area="341623")
    assert pii.normalize_id_number(number) == number


def test_id_number_unknown_area_code_is_refused():
    number = valid_id_number(3, birth="19650615", area="999999")
    with pytest.raises(pii.PersonalDataError, match="地区码"):
        pii.normalize_id_number(number)


def test_seal_phone_encrypts_hashes_and_masks():
    sealed = pii.seal_phone("138 1234 5678")
    assert sealed.masked == "138****5678"
    assert "13812345678" not in sealed.ciphertext
    assert crypto.decrypt(sealed.ciphertext) == "13812345678"
    # The keyed hash matches however the number was typed, and differs between kinds.
    assert sealed.digest == pii.phone_digest("+86 13812345678")
    assert sealed.digest != crypto.lookup_hash(pii.ID_NUMBER, "13812345678")
    # Encryption is randomized: the same number twice gives two ciphertexts.
    assert pii.seal_phone("13812345678").ciphertext != sealed.ciphertext
