"""A resident's report (居民反映) through a public channel: the QR page, /report/ or an
Open311 client. One action for all three, so the rules are the same everywhere: the
resident-facing category decides the small class, the location decides the grid (a point,
the building of a door code, or an address that is a building's), the contact is sealed and
masked as the register keeps a phone (or there is none: anonymous), a retried submission
answers the first case, and the case enters the loop as any other, with channel `resident`.

Errors name the action's own fields (`public_category`, `description`, `lat`,
`contact.phone`, `attributes.CODE`, `photos` …); each interface maps them to its own
names (Open311: `service_code`, `attribute[CODE]`, …).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from wangge.cases import access
from wangge.cases.actions.common import record_event
from wangge.cases.actions.intake import (
    Reported,
    _check_photos,
    _store_photos,
    find_duplicate,
    next_register_no,
)
from wangge.cases.errors import CaseError
from wangge.cases.models import Case, PublicCategory, ResidentReport
from wangge.cases.workflow import FINAL, State
from wangge.core import crypto
from wangge.registry.identity import IdentityError, mask_name, mask_phone, normalise_phone
from wangge.registry.models import Building
from wangge.territory import lookup
from wangge.territory.models import Grid

NAME_MAX = 50
EMAIL_MAX = 100
ADDRESS_MAX = ResidentReport._meta.get_field("address").max_length or 200
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}$")


def mask_email(email: str) -> str:
    """z***@example.com"""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@dataclass
class Where:
    """Where the problem is, as the resident gave it (any of them may be empty)."""

    lng: float | None = None
    lat: float | None = None
    #: the building of the door code the resident scanned (its location when no point)
    building: Building | None = None
    #: the grid of a grid's QR code (when there is neither a point nor a building)
    grid: Grid | None = None
    #: free text (Open311 address_string); matched against the register's buildings
    address: str = ""


@dataclass
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class Extras:
    """What an Open311 client may also send."""

    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str = ""
    device_id: str = ""
    account_id: str = ""


def replayed_report(client_key: str | None) -> Case | None:
    """The case a client key made before, if any."""
    if not client_key:
        return None
    row = ResidentReport.objects.filter(client_key=client_key).select_related("case").first()
    return row.case if row else None


def _category(code: str) -> PublicCategory:
    found = (PublicCategory.objects.select_related("category")
             .filter(code=code, active=True, category__confidential=False).first())
    if found is None:
        raise CaseError("public_category", "请选择问题类型" if not code
                        else f"没有这个问题类型：{code}")
    return found


def _locate(where: Where) -> tuple[Grid, float | None, float | None, Building | None, str]:
    """(grid, lng, lat, building, address) or CaseError naming `lat`."""
    lng, lat, building, address = where.lng, where.lat, where.building, where.address.strip()
    if (lng is None) != (lat is None):
        raise CaseError("lat" if lat is None else "lng", "经纬度须同时提供")
    if building is None and lng is None and address:
        # an address that is a building's in the register: its place (no street geocoder)
        building = Building.objects.filter(address=address).select_related("grid").first()
    if lng is None and building is not None:
        lng, lat = building.lng, building.lat
    if building is not None and not address:
        address = f"{building.address} {building.name}".strip()
    if lng is not None and lat is not None:
        try:
            lng, lat = float(lng), float(lat)
        except (TypeError, ValueError):
            raise CaseError("lat", "经纬度须为数字") from None
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise CaseError("lat", "经纬度超出范围")
        chain = lookup.locate(lng, lat)
        if chain is None:
            raise CaseError("lat", "这个位置不在本市网格范围内")
        return Grid.objects.get(code=chain[-1].code), lng, lat, building, address[:ADDRESS_MAX]
    if where.grid is not None:
        return where.grid, None, None, None, address[:ADDRESS_MAX]
    raise CaseError("lat", "请允许定位、在地图上选择位置，或填写本市登记的楼栋地址")


def _check_attributes(category: PublicCategory, given: dict[str, Any]) -> dict[str, Any]:
    """The category's intake fields (Open311 attributes): required ones present, list values
    among the allowed keys, numbers numbers; unknown codes refused."""
    fields = {f["code"]: f for f in category.intake_fields or []}
    out: dict[str, Any] = {}
    for code in given:
        if code not in fields:
            raise CaseError(f"attributes.{code}", "该问题类型没有这一项")
    for code, spec in fields.items():
        value = given.get(code)
        if value in (None, "", []):
            if spec.get("required"):
                raise CaseError(f"attributes.{code}", f"请填写：{spec.get('description', code)}")
            continue
        kind = spec.get("datatype", "string")
        keys = {str(v["key"]) for v in spec.get("values", [])}
        if kind == "singlevaluelist":
            if isinstance(value, list):
                value = value[0] if len(value) == 1 else value
            if str(value) not in keys:
                raise CaseError(f"attributes.{code}", f"可选值：{'、'.join(sorted(keys))}")
            value = str(value)
        elif kind == "multivaluelist":
            values = [str(v) for v in (value if isinstance(value, list) else [value])]
            if not set(values) <= keys:
                raise CaseError(f"attributes.{code}", f"可选值：{'、'.join(sorted(keys))}")
            value = values
        elif kind == "number":
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise CaseError(f"attributes.{code}", "须为数字") from None
        else:
            value = str(value)[:500]
        out[code] = value
    return out


def _sealed_contact(contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {"anonymous": True}
    out: dict[str, Any] = {}
    ring = crypto.keyring()
    if name := contact.name.strip():
        if len(name) > NAME_MAX:
            raise CaseError("contact.name", f"称呼最多 {NAME_MAX} 个字")
        out.update(name_enc=crypto.seal(name, ring), name_masked=mask_name(name))
    if raw := contact.phone.strip():
        try:
            phone = normalise_phone(raw)
        except IdentityError:
            raise CaseError("contact.phone", "请填写正确的手机或固定电话号码") from None
        out.update(phone_enc=crypto.seal(phone, ring), phone_hash=crypto.blind_index(phone, ring),
                   phone_masked=mask_phone(phone))
    if email := contact.email.strip():
        if len(email) > EMAIL_MAX or not _EMAIL.match(email):
            raise CaseError("contact.email", "电子邮箱格式不正确")
        out.update(email_enc=crypto.seal(email, ring), email_masked=mask_email(email))
    out["anonymous"] = not out
    return out


def phone_hash(raw: str) -> str | None:
    """The blind index of a phone as typed (for the per-phone limit), or None if it is not
    a phone number."""
    try:
        return crypto.blind_index(normalise_phone(raw))
    except IdentityError:
        return None


def keyed(value: str) -> str:
    return crypto.blind_index(value) if value else ""


def resident_title(category: PublicCategory, building: Building | None) -> str:
    """The case's title: the resident's category in their words, and the building — never
    free text, so a title can be shown wherever the case's category can."""
    where = f"（{building.name}）" if building is not None else ""
    return f"居民反映：{category.name}{where}"[:100]


def do_resident_report(*, public_category: str, description: str, where: Where,
                       source: str, contact: Contact | None = None,
                       photos: Sequence[bytes] = (), extras: Extras | None = None,
                       client_key: str | None = None, client_address: str = "",
                       actor: AbstractBaseUser | AnonymousUser | None = None) -> Reported:
    """上报 by a resident. `actor` is the service user of an Open311 key (the system the
    resident reported through), or None on the public pages. A replayed `client_key`
    answers the first case (Reported.replayed). Raises CaseError naming the field; nothing
    is written then."""
    if source not in ResidentReport.Source.values:
        raise CaseError("source", f"one of {', '.join(ResidentReport.Source.values)}")
    if client_key is not None and len(client_key) > 64:
        raise CaseError("client_key", "at most 64 characters")
    if (earlier := replayed_report(client_key)) is not None:
        return Reported(earlier, True)
    extras = extras or Extras()
    category = _category(public_category)
    description = (description or "").strip()
    limit = settings.WANGGE_RESIDENT_DESCRIPTION_MAX
    if len(description) > limit:
        raise CaseError("description", f"描述最多 {limit} 个字")
    attributes = _check_attributes(category, extras.attributes)
    grid, lng, lat, building, address = _locate(where)
    sealed = _sealed_contact(contact)
    checked = _check_photos(photos, already=0)
    if len(extras.media_url) > 500:
        raise CaseError("media_url", "at most 500 characters")
    user = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    try:
        with transaction.atomic():
            if (earlier := replayed_report(client_key)) is not None:
                return Reported(earlier, True)
            duplicate = find_duplicate(category.category, lng, lat, now)
            case = Case.objects.create(
                register_no=next_register_no(now), category=category.category, grid=grid,
                lng=lng, lat=lat, title=resident_title(category, building),
                description=description, channel=Case.Channel.RESIDENT, reporter=user,
                state=State.REPORTED, confidential=False, duplicate_of_id=duplicate,
            )
            ResidentReport.objects.create(
                case=case, source=source, public_category=category, client_key=client_key,
                building=building, address=address, media_url=extras.media_url,
                attributes=attributes, device_hash=keyed(extras.device_id),
                account_hash=keyed(extras.account_id), client_hash=keyed(client_address),
                **sealed)
            stored = _store_photos(case, "report", checked, user) if checked else []
            event = record_event(case, user, "report", "", source=source,
                                 public_category=category.code,
                                 possible_duplicate=duplicate is not None, photos=len(stored))
    except IntegrityError:
        if (earlier := replayed_report(client_key)) is not None:
            return Reported(earlier, True)
        raise
    return Reported(case, False, [event], stored)


def nearby_open(public_category: str, lng: float | None, lat: float | None,
                now: dt.datetime | None = None) -> Case | None:
    """The open public case of the same kind near this point that the report page offers
    to follow instead ("已有人报告：关注这一件"), if any. Only cases the public may see."""
    category = PublicCategory.objects.filter(code=public_category, active=True).first()
    if category is None or lng is None or lat is None:
        return None
    return access.nearby_public_case(category.category, lng, lat, now or timezone.now())


def do_public_follow(case: Case) -> None:
    """"我也遇到了" : a resident follows an open public case instead of reporting it again
    (the report page's "已有人报告：关注这一件"). One timeline entry with no personal data,
    so the dispatcher sees how many residents asked. Refused (CaseError naming `case`) for a
    case the public may not see, and for a case that is done."""
    if not access.public_cases().filter(pk=case.pk).exists():
        raise CaseError("case", "没有这件可关注的事件")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state in FINAL:
            raise CaseError("case", "这件事已经办结，请重新反映")
        record_event(locked, None, "public_follow", locked.state)
