"""Items in the exchange format for the catalogue and exchange tests (synthetic)."""

from __future__ import annotations

from typing import Any

DEPARTMENTS = ("civil-affairs", "health", "disabled-federation", "human-resources")


def item_row(code: str = "T-0001", **over: Any) -> dict[str, Any]:
    """One complete item as a department clerk would send it."""
    row: dict[str, Any] = {
        "code": code,
        "name": "老年人优待证（老年证）办理与年审",
        "aliases": ["老年证", "敬老证"],
        "type": "public_service",
        "department": "civil-affairs",
        "level": "town",
        "legal_basis": "《湖南省老年人权益保障条例》",
        "conditions": "年满60周岁的本市户籍老年人",
        "materials": [
            {"key": "id_card", "name": "居民身份证", "form": "original", "count": 1,
             "required": True, "condition": "", "note": "查验后退还"},
            {"key": "photo", "name": "近期一寸免冠照片", "form": "electronic", "count": 2,
             "required": True, "condition": "", "note": ""},
            {"key": "hukou", "name": "户口簿", "form": "copy", "count": 1,
             "required": False, "condition": "身份证地址不在本市的", "note": ""},
        ],
        "steps": ["申请", "受理", "审核", "制证", "发证"],
        "legal_days": 20, "promised_days": 5, "fee": "不收费",
        "place": "各乡镇（街道）便民服务中心", "hours": "工作日 8:30-12:00 14:30-17:30",
        "phone": "0731-23456789", "in_person_times": 0, "online_prereview": True,
        "prereview_days": 1, "proxy_eligible": True, "events": ["elderly"],
        "faq": [{"q": "年审需要本人到场吗？", "a": "不需要，可由网格员上门代办。"}],
    }
    row.update(over)
    return row


def rows(n: int, prefix: str = "T") -> list[dict[str, Any]]:
    """n different items spread over four departments."""
    return [item_row(f"{prefix}-{i:04d}", name=f"测试事项{i}号",
                     department=DEPARTMENTS[i % len(DEPARTMENTS)],
                     proxy_eligible=i % 13 == 0, events=["relief"] if i % 3 else [])
            for i in range(n)]
