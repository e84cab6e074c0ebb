"""Chinese resident identity numbers (GB 11643-1999) and mainland phone numbers.

Pure Python (no Django): parsing and validation, the ISO 7064 MOD 11-2 check character,
building valid numbers for synthetic data, and masking for display.

An identity number has 18 characters::

    430281 19900101 12 3 X
    ^area  ^birth   ^serial (2) + gender digit (odd = male) = 3-digit sequence code
                             ^check character (0-9 or X)

`make_id_number` fills the 3-digit sequence code with a 2-digit ``serial`` (0..99) and a
gender digit chosen from it, so one (area, birth date, gender) holds 100 distinct numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

__all__ = [
    "IdInfo",
    "IdentityError",
    "check_character",
    "make_id_number",
    "mask_id_number",
    "mask_phone",
    "normalise_phone",
    "parse_id_number",
]

#: ISO 7064 MOD 11-2 weights of the first 17 digits (2^(17-i) mod 11).
WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: check character for (weighted sum mod 11)
CHECK_MAP = "10X98765432"

#: First two digits of every province-level division (GB/T 2260).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)

EARLIEST_BIRTH = date(1900, 1, 1)
GENDERS = ("male", "female")

_DIGITS = frozenset("0123456789")
_SPACES = re.compile(r"\s+")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]+")
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
_LANDLINE = re.compile(r"0[0-9]{9,11}")


class IdentityError(ValueError):
    """A value is not a valid identity or phone number; the message is a short English
    reason, e.g. ``check character should be 7``."""


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str  # normalised: 18 characters, upper-case X
    area_code: str  # first 6 digits
    birth_date: date
    gender: str  # "male" | "female" (17th digit odd = male)


def _is_digits(text: str) -> bool:
    return bool(text) and all(c in _DIGITS for c in text)


def _check_area(area: str) -> None:
    if area[:2] not in PROVINCE_CODES:
        raise IdentityError(f"unknown province code {area[:2]}")
    if area[2:] == "0000":
        raise IdentityError("area code digits 3-6 must not be 0000")


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character ("0"-"9" or "X") of the first 17 digits."""
    if len(first17) != 17 or not _is_digits(first17):
        raise IdentityError("check character needs exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_MAP[total % 11]


def parse_id_number(value: str, *, today: date | None = None) -> IdInfo:
    """Validate an 18-character identity number and return what it encodes.

    Whitespace anywhere is ignored, full-width characters are folded (NFKC) and a final
    lower-case x is accepted. Each failure raises IdentityError with its own reason. Birth
    dates must lie between 1900-01-01 and `today` (default: the current date).
    """
    if not isinstance(value, str):
        raise IdentityError("identity number must be a string")
    number = _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()
    if not number:
        raise IdentityError("identity number is empty")
    if len(number) == 15 and _is_digits(number):
        raise IdentityError("15-digit old-style numbers are not accepted; use the 18-digit one")
    if len(number) != 18:
        raise IdentityError(f"must be 18 characters, got {len(number)}")
    if not _is_digits(number[:17]):
        raise IdentityError("first 17 characters must be digits")
    last = number[17]
    if last not in _DIGITS and last != "X":
        raise IdentityError("last character must be a digit or X")
    area = number[:6]
    _check_area(area)
    raw_birth = number[6:14]
    try:
        birth = date(int(raw_birth[:4]), int(raw_birth[4:6]), int(raw_birth[6:]))
    except ValueError:
        raise IdentityError(f"birth date {raw_birth} is not a calendar date") from None
    if birth < EARLIEST_BIRTH:
        raise IdentityError(f"birth date {birth.isoformat()} is before 1900-01-01")
    if birth > (today if today is not None else date.today()):
        raise IdentityError(f"birth date {birth.isoformat()} is in the future")
    expected = check_character(number[:17])
    if last != expected:
        raise IdentityError(f"check character should be {expected}")
    gender = "male" if int(number[16]) % 2 else "female"
    return IdInfo(number=number, area_code=area, birth_date=birth, gender=gender)


def gender_digit(serial: int, gender: str) -> int:
    """The 17th digit `make_id_number` uses: 2 * (serial % 5), plus 1 for male."""
    return 2 * (serial % 5) + (1 if gender == "male" else 0)


def make_id_number(area_code: str, birth: date, serial: int, gender: str) -> str:
    """A valid 18-character number: area, birth date, 2-digit `serial` (0..99), a gender
    digit (`gender_digit`) and the check character. Distinct (area, birth, serial, gender)
    give distinct numbers. Only for synthetic data: it does not reject future birth dates,
    which `parse_id_number` would."""
    if len(area_code) != 6 or not _is_digits(area_code):
        raise IdentityError("area code must be 6 digits")
    _check_area(area_code)
    if birth < EARLIEST_BIRTH or birth.year > 9999:
        raise IdentityError(f"birth date {birth.isoformat()} is before 1900-01-01")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= 99:
        raise IdentityError(f"serial must be an integer 0..99, got {serial!r}")
    if gender not in GENDERS:
        raise IdentityError(f"gender must be male or female, got {gender!r}")
    first17 = f"{area_code}{birth:%Y%m%d}{serial:02d}{gender_digit(serial, gender)}"
    return first17 + check_character(first17)


def normalise_phone(value: str) -> str:
    """Canonical form of a mainland phone number.

    Mobiles ``1[3-9]`` + 9 digits, optionally prefixed +86 / 86 / 0086, become 11 digits.
    Landlines ``0`` + 2-3 digit area code + 7-8 digit local number become ``0731-12345678``;
    the area code is 3 digits for 010 and 02x and 4 digits otherwise (wherever the caller
    put the dash). Spaces, dashes and parentheses are ignored, full-width digits folded.
    """
    if not isinstance(value, str):
        raise IdentityError("not a mainland mobile or landline number")
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    mobile = _MOBILE.fullmatch(compact)
    if mobile:
        return mobile.group(1)
    if _LANDLINE.fullmatch(compact):
        split = 3 if compact[1] in "12" else 4
        local = compact[split:]
        if 7 <= len(local) <= 8:
            return f"{compact[:split]}-{local}"
    raise IdentityError("not a mainland mobile or landline number")


def mask_name(name: str) -> str:
    """``张**``: the family name and stars, for lists and messages."""
    name = name.strip()
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def mask_id_number(value: str) -> str:
    """``430281********123X``: first 6 and last 4 characters kept, the rest starred.

    Never raises: an 18-character number keeps 6 + 4 around 8 stars; other values of 11+
    characters keep the same ends around as many stars as needed; shorter ones are all
    stars.
    """
    number = _SPACES.sub("", value).upper()
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(value: str) -> str:
    """``138****1234`` for a mobile, ``0731-****56`` for a landline (area code and last 2
    digits kept); anything else has all but its last 2 characters starred (all of it when
    it is 2 characters or shorter). Never raises."""
    try:
        phone = normalise_phone(value)
    except IdentityError:
        text = value.strip()
        if len(text) <= 2:
            return "*" * len(text)
        return "*" * (len(text) - 2) + text[-2:]
    if "-" in phone:
        area, local = phone.split("-")
        return f"{area}-****{local[-2:]}"
    return f"{phone[:3]}****{phone[-4:]}"
