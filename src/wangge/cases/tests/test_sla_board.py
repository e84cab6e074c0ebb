"""The SLA board (时限看板): complete counts by department and by subtree, a drill-down from
the towns to the communities to the basic grids, and nothing outside the viewer's scope."""

from __future__ import annotations

import re

import pytest

from wangge.cases import jobs, queues
from wangge.cases.models import CaseClock
from wangge.cases.tests.helpers import act, report
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_late_cases(login_as, spot) -> list[str]:  # type: ignore[no-untyped-def]
    """Two general cases in 胜利社区第1网格, breached by a sweep; no other clock is live."""
    CaseClock.objects.update(status=CaseClock.Status.STOPPED)
    dispatcher, worker = login_as("dispatcher"), login_as("gridworker")
    nos = []
    for i in range(2):
        no = report(worker, (spot[0] + 0.001 * i, spot[1]), category="0101",
                    title=f"暴露垃圾{i}")["register_no"]
        act(dispatcher, no, "register")
        nos.append(no)
    jobs.sweep(max(c.deadline for c in CaseClock.objects.filter(case__register_no__in=nos)))
    return nos


def section(page: str, key: str) -> str:
    return page.split(f'class="sla-{key}"')[1].split("</section>")[0]


def test_counts_are_complete_even_when_only_some_rows_are_listed(
        login_as, two_late_cases, monkeypatch) -> None:
    monkeypatch.setattr(queues, "SLA_BOARD_ROWS", 1)
    page = login_as("dispatcher").get("/console/cases/sla/").content.decode()
    breached = section(page, "breached")
    assert re.search(r'<small class="count">2</small>', breached)
    assert sum(no in breached for no in two_late_cases) == 1  # one row listed …
    assert "共 2 条" in breached  # … and the page says so
    town = Grid.objects.get(name="来龙门街道")
    assert re.search(rf'grid={town.code}">来龙门街道</a></td><td>2<', breached)


def test_drilling_down_from_the_town_to_the_community(login_as, two_late_cases) -> None:
    dispatcher = login_as("dispatcher")
    town, community = (Grid.objects.get(name=n) for n in ("来龙门街道", "胜利社区"))
    page = dispatcher.get("/console/cases/sla/", {"grid": town.code}).content.decode()
    assert re.search(rf'grid={community.code}">胜利社区</a></td><td>2<', section(page, "breached"))
    assert "按下级网格" in page and f'grid={town.code}">来龙门街道</a>' in page  # breadcrumb
    page = dispatcher.get("/console/cases/sla/", {"grid": community.code}).content.decode()
    assert re.search(r'>胜利社区第1网格</a></td><td>2<', section(page, "breached"))


def test_a_station_sees_its_own_community_and_no_one_else_s(login_as, two_late_cases) -> None:
    station = login_as("station")
    page = station.get("/console/cases/sla/").content.decode()
    assert "时限看板 · 胜利社区" in page  # their subtree, broken down by basic grid
    assert re.search(r'>胜利社区第1网格</a></td><td>2<', section(page, "breached"))
    elsewhere = Grid.objects.filter(level=3).exclude(name="胜利社区").first()
    assert elsewhere is not None
    assert station.get("/console/cases/sla/", {"grid": elsewhere.code}).status_code == 404
