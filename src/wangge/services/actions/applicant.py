"""The applicant's personal data, kept as the register keeps a resident's: the name in
clear (seen only in scope), the ID number and phone sealed, hashed for exact search and
masked for every list. One rule for applications and proxy requests alike."""

from __future__ import annotations

from typing import Any

from wangge.core import crypto
from wangge.registry.identity import (
    IdentityError,
    mask_id_number,
    mask_phone,
    normalise_phone,
    parse_id_number,
)
from wangge.registry.models import Resident
from wangge.services.errors import ServiceError
from wangge.services.models import Application

NAME_MAX = Application._meta.get_field("applicant_name").max_length or 50


def _field(applicant: dict[str, Any], key: str) -> str:
    value = applicant.get(key)
    if value is not None and not isinstance(value, str | int):
        raise ServiceError(f"applicant.{key}", "须为文字")
    return str(value or "").strip()


def sealed_applicant(applicant: Any, resident: Resident | None = None) -> dict[str, Any]:
    """The model fields of the applicant (SealedApplicant). A resident of the register gives
    their own data, never re-typed at the door; otherwise `applicant` is {name, id_number,
    phone} as typed, validated with errors naming the field."""
    if resident is not None:
        return {"applicant_name": resident.name,
                "id_number_enc": resident.id_number_enc,
                "id_number_hash": resident.id_number_hash,
                "id_number_masked": resident.id_number_masked,
                "phone_enc": resident.phone_enc, "phone_hash": resident.phone_hash,
                "phone_masked": resident.phone_masked}
    if not isinstance(applicant, dict):
        raise ServiceError("applicant", "申请人信息格式不正确")
    name = _field(applicant, "name")
    if not name:
        raise ServiceError("applicant.name", "请填写申请人姓名", "required")
    if len(name) > NAME_MAX:
        raise ServiceError("applicant.name", f"姓名最多 {NAME_MAX} 个字", "too_long")
    out: dict[str, Any] = {"applicant_name": name}
    ring = crypto.keyring()
    if raw_id := _field(applicant, "id_number"):
        try:
            number = parse_id_number(raw_id.upper()).number
        except IdentityError as e:
            raise ServiceError("applicant.id_number", f"身份证号码不正确（{e}）") from None
        out.update(id_number_enc=crypto.seal(number, ring),
                   id_number_hash=crypto.blind_index(number, ring),
                   id_number_masked=mask_id_number(number))
    if raw_phone := _field(applicant, "phone"):
        try:
            phone = normalise_phone(raw_phone)
        except IdentityError:
            raise ServiceError("applicant.phone", "请填写正确的手机或固定电话号码") from None
        out.update(phone_enc=crypto.seal(phone, ring), phone_hash=crypto.blind_index(phone, ring),
                   phone_masked=mask_phone(phone))
    return out
