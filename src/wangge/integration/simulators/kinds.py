"""The two peer systems a simulator plays, as data: their paths, the key that carries our
number, the prefix of their numbers, the keys they require and their default story
(docs/external-systems.md is the contract; docs/simulators.md the simulator's own page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: the status words of a call-back, in the order a story moves through them (退回 aside)
STATUS_ORDER = ("受理", "派遣", "处置中", "已处置", "核查", "结案")
STATUS_WORDS = (*STATUS_ORDER, "退回")
#: what their operator writes with each status
NOTES = {
    "受理": "已受理，正在派单", "派遣": "已派遣至责任单位", "处置中": "责任单位正在处置",
    "已处置": "已处置完毕", "核查": "监督员现场核查", "结案": "已结案",
    "退回": "不属于本平台受理范围，予以退回",
}
APPEAL_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
URGENCIES = ("一般", "紧急", "特急")
PROBLEM_TYPES = ("部件", "事件")


class Invalid(ValueError):
    """A refused request body: answered 400 {"error": {"field", "message"}}."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def rank(status: str) -> int:
    """How far along a status is (-1 before the first; 退回 is past everything)."""
    if status == "退回":
        return len(STATUS_ORDER)
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else -1


def parse_steps(text: str) -> list[tuple[str, float]]:
    """"受理:1,派遣:2" → [("受理", 1.0), ("派遣", 2.0)]; blank or "none" → no story (only
    /_sim/advance moves an order)."""
    steps: list[tuple[str, float]] = []
    if not text.strip() or text.strip().lower() == "none":
        return steps
    for part in text.split(","):
        word, sep, seconds = part.strip().rpartition(":")
        if not sep or word not in STATUS_WORDS:
            raise ValueError(f"bad step {part!r}: STATUS:SECONDS, STATUS one of "
                             f"{', '.join(STATUS_WORDS)}")
        steps.append((word, float(seconds)))
    return sorted(steps, key=lambda s: s[1])


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(key, "required (a non-empty string)")
    return value


def _one_of(body: dict[str, Any], key: str, words: tuple[str, ...], *,
            required: bool = True) -> None:
    value = body.get(key)
    if value is None and not required:
        return
    if value not in words:
        raise Invalid(key, f"one of {', '.join(words)}")


def _when(body: dict[str, Any], key: str, *, required: bool = True) -> None:
    value = body.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise Invalid(key, "required (ISO 8601 with offset)")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(key, f"not ISO 8601: {value!r}") from None
    if parsed.tzinfo is None:
        raise Invalid(key, "ISO 8601 with an offset (+08:00)")


def _location(body: dict[str, Any]) -> None:
    value = body.get("location")
    if value is None:
        return
    if not isinstance(value, dict):
        raise Invalid("location", '{"lng": …, "lat": …, "crs": "WGS84"} or null')
    lng, lat = value.get("lng"), value.get("lat")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lng, lat)) \
            or not (-180 <= lng <= 180 and -90 <= lat <= 90):  # type: ignore[operator]
        raise Invalid("location", "lng and lat in degrees")


def _list(body: dict[str, Any], key: str) -> None:
    if body.get(key) is not None and not isinstance(body[key], list):
        raise Invalid(key, "a list")


def validate_work_order(body: dict[str, Any]) -> None:
    """12345's 工单 (GB/T 33358 practice)."""
    for key in ("order_no", "channel", "category_code", "title", "content", "address"):
        _text(body, key)
    _one_of(body, "appeal_type", APPEAL_TYPES)
    _one_of(body, "urgency", URGENCIES, required=False)
    _when(body, "reported_at")
    _when(body, "deadline", required=False)
    _location(body)
    _list(body, "attachments")


def validate_case_file(body: dict[str, Any]) -> None:
    """数字城管's 案卷 (GB/T 30428 / CJ/T 214)."""
    for key in ("case_no", "source", "location_desc", "description"):
        _text(body, key)
    _one_of(body, "problem_type", PROBLEM_TYPES)
    for key in ("main_class", "sub_class"):
        value = body.get(key)
        if not isinstance(value, dict) or not isinstance(value.get("code"), str) \
                or not value["code"].strip():
            raise Invalid(key, '{"code": …, "name": …} with a code')
    _when(body, "reported_at")
    _when(body, "deadline", required=False)
    _location(body)
    _list(body, "images")


@dataclass(frozen=True)
class Kind:
    #: the CLI's name (`wangge simulate hotline-12345`)
    name: str
    #: our code of the system (its department and adapter)
    code: str
    title: str
    #: where orders are posted (status query: path + "/status")
    path: str
    #: the body key with our number; their answer carries their number under the same key
    number_key: str
    #: their numbers: prefix + year + six digits (GD2026000001)
    prefix: str
    default_steps: str
    validate: Callable[[dict[str, Any]], None]
    #: their category code in an order (what --return-codes is matched against)
    category_code: Callable[[dict[str, Any]], str]
    #: they send us orders and take our replies (12345)
    two_way: bool


HOTLINE_12345 = Kind(
    name="hotline-12345", code="hotline_12345", title="12345市民服务热线",
    path="/work-orders", number_key="order_no", prefix="GD",
    default_steps="受理:2,派遣:10,处置中:20,已处置:40",
    validate=validate_work_order,
    category_code=lambda body: str(body.get("category_code") or ""),
    two_way=True,
)
CITY_MANAGEMENT = Kind(
    name="city-management", code="city_management", title="数字城管系统",
    path="/cases", number_key="case_no", prefix="AJ",
    default_steps="受理:2,派遣:10,处置中:20,已处置:40,核查:50,结案:60",
    validate=validate_case_file,
    category_code=lambda body: str((body.get("sub_class") or {}).get("code") or ""),
    two_way=False,
)
KINDS = {k.name: k for k in (HOTLINE_12345, CITY_MANAGEMENT)}
