"""Cases for the Open311 tests: a resident's report through the one intake, and cheap
bulk cases at a chosen moment."""

from __future__ import annotations

import datetime as dt
import uuid

from wangge.cases.actions import Contact, Where, do_resident_report
from wangge.cases.models import Case, CaseCategory
from wangge.territory.models import Grid

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def resident_case(code: str, spot: tuple[float, float], *, at: dt.datetime | None = None,
                  description: str = "井口冒水，味道很大", **kw: object) -> Case:
    lng, lat = spot
    case = do_resident_report(public_category=code, description=description,
                              where=Where(lng=lng, lat=lat), source="open311",
                              contact=Contact(name="李四", phone="13800001111"),
                              **kw).case  # type: ignore[arg-type]
    if at is not None:
        Case.objects.filter(pk=case.pk).update(created_at=at)
        case.refresh_from_db()
    return case


def bulk_cases(n: int, at: dt.datetime, *, category: str = "0602", confidential: bool = False,
               channel: str = Case.Channel.GRID_WORKER, state: str = "registered",
               title: str = "路灯不亮") -> list[Case]:
    """n cases at `at` (one INSERT and one UPDATE: auto_now_add would stamp them now)."""
    grid = Grid.objects.get(name="胜利社区第1网格")
    kind = CaseCategory.objects.get(code=category)
    tag = uuid.uuid4().hex[:6]
    Case.objects.bulk_create([
        Case(register_no=f"T{tag}{i:05d}", category=kind, grid=grid, title=title,
             channel=channel, state=state, confidential=confidential)
        for i in range(n)], batch_size=500)
    Case.objects.filter(register_no__startswith=f"T{tag}").update(created_at=at)
    return list(Case.objects.filter(register_no__startswith=f"T{tag}").order_by("pk"))
