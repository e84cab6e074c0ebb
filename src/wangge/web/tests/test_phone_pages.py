"""The small things that are felt (issue 11, points 4 and 6), as the server renders them: the
header's menu button, destructive steps set apart and confirmed, the unknown-QR page, the
QR page's link to 办理进度查询, plain words on the public status page, and internals
(policy codes, the outbox) only for administrators. Their behaviour in a real browser is in
tests/e2e/test_phone_widths.py."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.cases.actions.intake import next_register_no
from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Case, CaseCategory
from wangge.registry.models import Building
from wangge.territory.models import Grid
from wangge.workcal.models import SlaPolicy

pytestmark = pytest.mark.django_db


def make_case(state: str) -> Case:
    grid = Grid.objects.get(name="胜利社区第1网格")
    return Case.objects.create(
        register_no=next_register_no(timezone.now()), grid=grid, title="井盖缺失", state=state,
        category=CaseCategory.objects.get(code="0601"), channel=Case.Channel.GRID_WORKER,
        lng=grid.label_lng, lat=grid.label_lat)


def forms_by_action(html: str) -> dict[str, str]:
    """data-action → the <form …> opening tag of each action form on a case page."""
    return {m.group(1): m.group(0)
            for m in re.finditer(r'<form [^>]*data-action="(\w+)"[^>]*>', html)}


def test_header_has_a_menu_button_wired_by_a_static_script(login_as) -> None:
    html = login_as("dispatcher").get("/console/cases/").content.decode()
    button = re.search(r"<button [^>]*data-menu-toggle[^>]*>", html)
    assert button and 'aria-controls="main-menu"' in button.group(0)
    assert 'aria-expanded="false"' in button.group(0)
    assert 'id="main-menu"' in html and "web/menu" in html
    assert "<script>" not in html and " onclick=" not in html  # the CSP allows neither
    # signed out there is no menu to fold
    assert "data-menu-toggle" not in Client().get("/login/").content.decode()


def test_reject_and_cancel_are_set_apart_and_ask_first(login_as) -> None:
    case = make_case("reported")
    html = login_as("dispatcher").get(f"/console/cases/{case.register_no}/").content.decode()
    forms = forms_by_action(html)
    assert {"reject", "cancel", "register"} <= forms.keys()
    for name in ("reject", "cancel"):
        assert "danger" in forms[name] and "data-confirm=" in forms[name]
        assert case.register_no in forms[name]  # the question names the case
    assert "danger" not in forms["register"] and "data-confirm" not in forms["register"]
    zone = html[html.index('class="danger-zone"'):]
    assert zone.index('data-action="reject"') < zone.index("</div>")
    assert html.index('data-action="register"') < html.index('class="danger-zone"')


def test_no_destructive_step_leaves_no_empty_danger_zone(login_as) -> None:
    case = make_case("closed")
    html = login_as("dispatcher").get(f"/console/cases/{case.register_no}/").content.decode()
    assert "data-confirm" not in html
    assert 'class="danger-zone"></div>' in html or "danger-zone" not in html


def test_rule_deletion_asks_first(login_as) -> None:
    html = login_as("dispatcher").get("/console/cases/rules/").content.decode()
    deletes = re.findall(r'<form [^>]*action="/console/cases/rules/\d+/delete/"[^>]*>', html)
    assert deletes and all("data-confirm=" in f for f in deletes)


def test_unknown_qr_code_gets_a_chinese_phone_page_that_leads_on() -> None:
    r = Client().get("/q/no-such-code")
    assert r.status_code == 404
    html = r.content.decode()
    assert "这个二维码无法识别" in html and 'name="viewport"' in html
    assert 'lang="zh-hans"' in html and 'href="/cases/status/"' in html
    assert "Not Found" not in html
    # a building's door code still opens its grid's page
    building = Building.objects.exclude(qr_token="").first()
    assert building is not None
    assert Client().get(f"/q/{building.qr_token}").status_code == 200


def test_qr_page_links_to_the_status_page() -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    html = Client().get(f"/q/{grid.qr_token}").content.decode()
    assert 'href="/cases/status/"' in html and "办理进度查询" in html


@settings(max_examples=len(STATE_LABELS), deadline=None)
@given(st.sampled_from(sorted(STATE_LABELS)))
def test_every_state_has_plain_words(state: str) -> None:
    words = render_to_string("cases/_state_words.html", {"state": state}).strip()
    assert len(words) >= 8 and re.search(r"[\u4e00-\u9fff]", words)
    assert state not in words  # no internal state code shown to a resident


def test_status_page_explains_the_current_step_and_every_step() -> None:
    case = make_case("handled")
    html = Client().get(f"/cases/status/{case.register_no}").content.decode()
    assert "网格员会到现场看一看" in html  # the current step, in plain words
    explained = re.search(r'<dl class="steps-explained">(.*?)</dl>', html, re.S)
    assert explained
    for label in STATE_LABELS.values():
        assert f"<dt>{label}</dt>" in explained.group(1)
    assert explained.group(1).count("<dd></dd>") == 0


def test_policy_codes_only_for_administrators(login_as) -> None:
    policy = SlaPolicy.objects.filter(active=True).first()
    assert policy is not None
    code = f"<code>{policy.code}</code>"
    assert code not in login_as("dispatcher").get("/console/calendar/").content.decode()
    assert code in login_as("center_admin").get("/console/calendar/").content.decode()


def test_outbox_only_for_administrators(login_as) -> None:
    assert login_as("dispatcher").get("/console/outbox/").status_code == 403
    assert "/console/outbox/" not in login_as("dispatcher").get("/").content.decode()
    assert login_as("center_admin").get("/console/outbox/").status_code == 200
