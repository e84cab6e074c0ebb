"""Shared set-up of the pre-review tests: a published 民政 item with online pre-review, valid
picture and PDF bytes, and the demo's logins as users."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth import get_user_model
from PIL import Image

from wangge.org.models import Department
from wangge.services.models import ItemVersion, ServiceItem

MATERIALS: list[dict[str, Any]] = [
    {"key": "id_card", "name": "居民身份证", "form": "copy", "count": 1, "required": True,
     "condition": "", "note": ""},
    {"key": "hukou", "name": "户口簿", "form": "copy", "count": 1, "required": True,
     "condition": "", "note": ""},
    {"key": "photo", "name": "近期免冠照片", "form": "electronic", "count": 1,
     "required": False, "condition": "", "note": ""},
]
#: a valid ID number (GB 11643 check character right) and phone, never a real person's
ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


def make_item(code: str = "T-MZ-001", *, department: str = "civil-affairs",
              online: bool = True, days: int = 1, active: bool = True) -> ServiceItem:
    dept = Department.objects.get(code=department)
    item = ServiceItem.objects.create(code=code, name="老年人优待证办理（测试）", department=dept,
                                      type="confirmation", level="city", online_prereview=online,
                                      proxy_eligible=True, active=active)
    version = ItemVersion.objects.create(
        item=item, number=1, state=ItemVersion.State.PUBLISHED, name=item.name,
        type=item.type, department=dept, level="city", materials=MATERIALS, legal_days=10,
        promised_days=5, online_prereview=online, prereview_days=days, proxy_eligible=True)
    item.current = version
    item.save(update_fields=["current"])
    return item


def png(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n"
            b"%%EOF\n")


def user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def make_other_worker() -> Any:
    """A login for the grid worker of another grid of the same community."""
    from wangge.org.models import Person, Role, RoleAssignment

    mine = user("gridworker").person.roles.get(role=Role.GRID_WORKER, ended_on__isnull=True)
    row = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True,
                                        grid__parent=mine.grid.parent).exclude(
        person=mine.person).first()
    assert row is not None
    other = get_user_model().objects.create(username="other_worker")
    Person.objects.filter(pk=row.person_id).update(user=other)
    return other


def worker_grid_id() -> int:
    from wangge.org.models import Role

    return int(user("gridworker").person.roles.get(role=Role.GRID_WORKER,
                                                   ended_on__isnull=True).grid_id)
