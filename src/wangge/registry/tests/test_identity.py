"""Tests for identity numbers and phone numbers (pure Python: no Django needed).

Run with: .venv/bin/python -m pytest -p no:django src/wangge/registry/tests/test_identity.py

Every number here is synthetic: built with make_id_number, computed by hand, or the worked
example printed in GB 11643-1999 itself (11010519491231002X).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from wangge.registry.identity import (
    CHECK_MAP,
    PROVINCE_CODES,
    IdentityError,
    IdInfo,
    check_character,
    gender_digit,
    make_id_number,
    mask_id_number,
    mask_phone,
    normalise_phone,
    parse_id_number,
)

TODAY = date(2026, 1, 1)
AREAS = ["430281", "110105", "440304", "650102", "310115", "510107", "230103", "530102"]
ID_CHARS = "0123456789X"

areas = st.sampled_from(AREAS)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
serials = st.integers(min_value=0, max_value=99)
genders = st.sampled_from(["male", "female"])


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    return make_id_number(draw(areas), draw(births), draw(serials), draw(genders))


def parse(value: str) -> IdInfo:
    return parse_id_number(value, today=TODAY)


def reason(value: str) -> str:
    with pytest.raises(IdentityError) as info:
        parse(value)
    return str(info.value)


# ------------------------------------------------------------------ check character


def test_check_character_of_the_standards_worked_example() -> None:
    # GB 11643-1999 prints 11010519491231002X as its example.
    assert check_character("11010519491231002") == "X"
    info = parse("11010519491231002X")
    assert info == IdInfo("11010519491231002X", "110105", date(1949, 12, 31), "female")


def test_check_character_computed_by_hand() -> None:
    # 4·7+3·9+0·10+2·5+8·8+1·4+1·2+9·1+9·6+0·3+0·7+1·9+0·10+1·5+0·8+1·4+1·2 = 218 ≡ 9 → "3"
    assert check_character("43028119900101011") == "3"
    # same with a 3 as 17th digit: 218 + 2·2 = 222 ≡ 2 → "X"
    assert check_character("43028119900101013") == "X"
    assert make_id_number("430281", date(1990, 1, 1), 1, "male") == "43028119900101013X"
    # female, serial 1 → gender digit 2: 218 + 1·2 = 220 ≡ 0 → "1"
    assert make_id_number("430281", date(1990, 1, 1), 1, "female") == "430281199001010121"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_character_makes_weighted_sum_one_mod_11(first17: str) -> None:
    # The MOD 11-2 definition: sum of a_i * 2^(18-i) over all 18 positions ≡ 1 (mod 11),
    # with X counting as 10.
    full = first17 + check_character(first17)
    values = [10 if c == "X" else int(c) for c in full]
    assert sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1


@pytest.mark.parametrize("bad", ["", "1234567890123456", "123456789012345678", "1234567890123456a"])
def test_check_character_needs_17_digits(bad: str) -> None:
    with pytest.raises(IdentityError):
        check_character(bad)


# ------------------------------------------------------------------ round trip


@given(areas, births, serials, genders)
def test_made_numbers_parse_back(area: str, birth: date, serial: int, gender: str) -> None:
    number = make_id_number(area, birth, serial, gender)
    assert len(number) == 18
    info = parse(number)
    assert info == IdInfo(number, area, birth, gender)
    assert number[14:16] == f"{serial:02d}"
    assert int(number[16]) == gender_digit(serial, gender)


@given(areas, births, genders, serials, serials)
def test_distinct_serials_give_distinct_numbers(
    area: str, birth: date, gender: str, a: int, b: int
) -> None:
    assume(a != b)
    assert make_id_number(area, birth, a, gender) != make_id_number(area, birth, b, gender)
    assert make_id_number(area, birth, a, "male") != make_id_number(area, birth, a, "female")


@given(valid_numbers())
def test_lower_case_x_spaces_and_full_width_are_normalised(number: str) -> None:
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
    assert parse(spaced).number == number
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # "０"… "Ｘ"
    assert parse(full_width).number == number


# ------------------------------------------------------------------ error detection


@given(valid_numbers(), st.integers(0, 17), st.sampled_from(ID_CHARS))
@example("11010519491231002X", 17, "0")
def test_any_single_character_change_is_rejected(number: str, pos: int, char: str) -> None:
    assume(number[pos] != char)
    changed = number[:pos] + char + number[pos + 1 :]
    with pytest.raises(IdentityError):
        parse(changed)


@given(valid_numbers(), st.integers(0, 15))
def test_adjacent_transposition_is_detected(number: str, pos: int) -> None:
    a, b = number[pos], number[pos + 1]
    assume(a != b)
    swapped = number[:pos] + b + a + number[pos + 2 :]
    with pytest.raises(IdentityError):
        parse(swapped)


@given(st.text(alphabet=ID_CHARS, min_size=18, max_size=18))
def test_random_strings_parse_or_fail_cleanly(candidate: str) -> None:
    try:
        info = parse(candidate)
    except IdentityError as exc:
        assert str(exc)
    else:
        assert check_character(info.number[:17]) == info.number[17]
        assert info.area_code[:2] in PROVINCE_CODES


# ------------------------------------------------------------------ rejection reasons


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


GOOD = make_id_number("430281", date(1990, 5, 17), 12, "male")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "identity number is empty"),
        ("   ", "identity number is empty"),
        (GOOD[:17], "must be 18 characters, got 17"),
        (GOOD + "1", "must be 18 characters, got 19"),
        ("430281900517123", "15-digit old-style numbers are not accepted; use the 18-digit one"),
        ("4302811990A517123X", "first 17 characters must be digits"),
        ("43028119900517123Y", "last character must be a digit or X"),
        (with_check("19028119900517123"), "unknown province code 19"),
        (with_check("00028119900517123"), "unknown province code 00"),
        (with_check("43000019900517123"), "area code digits 3-6 must not be 0000"),
        (with_check("43028119900230123"), "birth date 19900230 is not a calendar date"),
        (with_check("43028119901301123"), "birth date 19901301 is not a calendar date"),
        (with_check("43028119000229123"), "birth date 19000229 is not a calendar date"),
        (with_check("43028120260102123"), "birth date 2026-01-02 is in the future"),
        (with_check("43028118991231123"), "birth date 1899-12-31 is before 1900-01-01"),
    ],
)
def test_rejection_reasons(value: str, expected: str) -> None:
    assert reason(value) == expected


def test_wrong_check_character_names_the_right_one() -> None:
    right = GOOD[17]
    wrong = "0" if right != "0" else "1"
    assert reason(GOOD[:17] + wrong) == f"check character should be {right}"


def test_leap_day_and_limits_are_accepted() -> None:
    assert parse(with_check("43028120000229123")).birth_date == date(2000, 2, 29)
    assert parse(with_check("43028119000101123")).birth_date == date(1900, 1, 1)
    assert parse(with_check("43028120260101123")).birth_date == TODAY


def test_today_defaults_to_the_current_date() -> None:
    tomorrow = date.today() + timedelta(days=1)
    number = make_id_number("430281", tomorrow, 0, "female")
    with pytest.raises(IdentityError, match="in the future"):
        parse_id_number(number)
    assert parse_id_number(number, today=tomorrow).birth_date == tomorrow


def test_non_string_is_rejected() -> None:
    with pytest.raises(IdentityError):
        parse_id_number(430281199001010113)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("area", "birth", "serial", "gender"),
    [
        ("43028", date(1990, 1, 1), 0, "male"),
        ("990281", date(1990, 1, 1), 0, "male"),
        ("430000", date(1990, 1, 1), 0, "male"),
        ("430281", date(1899, 12, 31), 0, "male"),
        ("430281", date(1990, 1, 1), 100, "male"),
        ("430281", date(1990, 1, 1), -1, "male"),
        ("430281", date(1990, 1, 1), True, "male"),
        ("430281", date(1990, 1, 1), 0, "m"),
    ],
)
def test_make_id_number_rejects_bad_parts(
    area: str, birth: date, serial: int, gender: str
) -> None:
    with pytest.raises(IdentityError):
        make_id_number(area, birth, serial, gender)


def test_check_map_is_the_standard_one() -> None:
    assert CHECK_MAP == "10X98765432"


# ------------------------------------------------------------------ phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("17090001234", "17090001234"),
        ("170 9000 1234", "17090001234"),
        ("170-9000-1234", "17090001234"),
        ("+86 170 9000 1234", "17090001234"),
        ("+8617090001234", "17090001234"),
        ("8617090001234", "17090001234"),
        ("008617090001234", "17090001234"),
        ("１７０９０００１２３４", "17090001234"),
        ("19912345678", "19912345678"),
        ("13012345678", "13012345678"),
        ("0731-12345678", "0731-12345678"),
        ("073112345678", "0731-12345678"),
        ("0731 1234567", "0731-1234567"),
        ("(0731)12345678", "0731-12345678"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("021-1234567", "021-1234567"),
        ("073-11234567", "0731-1234567"),  # 073 is no area code: re-split as 0731
    ],
)
def test_normalise_phone_accepts(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345678901",  # 12 is no mobile segment
        "11012345678",
        "1709000123",  # 10 digits
        "170900012345",  # 12 digits
        "+1 170 9000 1234",
        "87 17090001234",
        "1709000123a",
        "0731-123456",  # local number too short
        "0731-123456789",  # too long
        "010-1234567890",
        "731-12345678",  # no leading 0
        "110",
        "phone",
    ],
)
def test_normalise_phone_rejects(raw: str) -> None:
    with pytest.raises(IdentityError, match=r"^not a mainland mobile or landline number$"):
        normalise_phone(raw)


@given(st.integers(3, 9), st.integers(0, 10**9 - 1), st.sampled_from(["", "+86", "86"]))
def test_any_mobile_normalises(second: int, rest: int, prefix: str) -> None:
    number = f"1{second}{rest:09d}"
    assert normalise_phone(prefix + number) == number
    assert normalise_phone(f"{prefix} {number[:3]}-{number[3:7]} {number[7:]}") == number


@given(st.text(max_size=20))
def test_normalise_phone_only_raises_identity_error(text: str) -> None:
    try:
        phone = normalise_phone(text)
    except IdentityError:
        return
    assert normalise_phone(phone) == phone  # canonical form is a fixed point


# ------------------------------------------------------------------ masking


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("43028119900101013X", "430281********013X"),
        ("43028119900101013x", "430281********013X"),
        ("430281 19900101 013X", "430281********013X"),
        ("430281900101013", "430281*****1013"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_id_number(raw: str, masked: str) -> None:
    assert mask_id_number(raw) == masked


@given(valid_numbers())
def test_masked_id_keeps_six_and_four(number: str) -> None:
    masked = mask_id_number(number)
    assert masked == number[:6] + "********" + number[14:]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("17090001234", "170****1234"),
        ("+86 170-9000-1234", "170****1234"),
        ("0731-12345678", "0731-****78"),
        ("073112345678", "0731-****78"),
        ("010-1234567", "010-****67"),
        ("12345", "***45"),
        ("ab", "**"),
        ("", ""),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked
