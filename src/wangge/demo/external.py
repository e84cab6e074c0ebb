"""The demo city's two external systems wired up: the 12345 hotline and 数字城管 each get an
adapter pointing at its simulator on this machine (`wangge simulate`, started by `make
demo`), a fresh random secret per load, the mapping tables shipped in
`integration/mappings/`, and a few duty rules that route kinds of cases to them.

It runs after the year of generated cases and the stories: history is not transferred (no
orders, no outbox rows), only cases dispatched from now on are. The rules replace the city
rules of their small classes (停水 and 停电 were the water and power companies'; the
manhole, street-light and drain classes urban management's), so a dispatch in any grid
sends those cases out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from wangge.cases.actions import do_set_duty_rule
from wangge.cases.models import CaseCategory
from wangge.integration.actions.external import do_load_mappings, do_save_adapter
from wangge.integration.mappings import shipped_rows
from wangge.org.models import Department
from wangge.territory.models import Grid, Level

#: where `make demo` runs each system's simulator
HOTLINE_PORT = 8611
CITY_MANAGEMENT_PORT = 8612
#: system code → (adapter kind, simulator port, options)
ADAPTERS: dict[str, tuple[str, int, dict[str, object]]] = {
    "hotline_12345": ("hotline_12345", HOTLINE_PORT, {"pass_phone": False,
                                                       "status_query": True}),
    "city_management": ("city_management", CITY_MANAGEMENT_PORT, {"status_query": True}),
}
#: small class → the external system the city's duty list sends it to
EXTERNAL_DUTY: dict[str, str] = {
    "1001": "hotline_12345",  # 停水
    "1002": "hotline_12345",  # 停电
    "0601": "city_management",  # 井盖缺失
    "0602": "city_management",  # 路灯损坏
    "0603": "city_management",  # 排水设施堵塞
}


def endpoint(system: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{ADAPTERS[system][1]}"


@dataclass(frozen=True)
class ExternalLoad:
    adapters: dict[str, str]  # system code → endpoint
    mappings: dict[str, int]  # system code → rows loaded
    rules: dict[str, str]  # small class → system code


def load_demo_external_systems(*, host: str = "127.0.0.1") -> ExternalLoad:
    """Adapters, mappings and duty rules for the external systems already in the org
    (`demo.departments.EXTERNAL_SYSTEMS`), as the center's administrator. A system the
    org does not have is skipped, and so are the rules of a category the city lacks."""
    actor = _center_admin()
    adapters: dict[str, str] = {}
    mappings: dict[str, int] = {}
    rules: dict[str, str] = {}
    city = Grid.objects.filter(level=Level.CITY).order_by("path").first()
    with transaction.atomic():
        systems = {d.code: d for d in Department.objects.filter(
            kind=Department.Kind.EXTERNAL, code__in=ADAPTERS)}
        for code, (kind, _port, options) in ADAPTERS.items():
            system = systems.get(code)
            if system is None:
                continue
            adapter = do_save_adapter(system=system, kind=kind, endpoint=endpoint(code, host),
                                      secret=secrets.token_urlsafe(32), options=options,
                                      actor=actor)
            adapters[code] = adapter.endpoint
            mappings[code] = do_load_mappings(adapter, _known(shipped_rows(kind)),
                                              actor=actor)
        if city is not None and actor is not None:
            known = set(_known_codes(list(EXTERNAL_DUTY)))
            for category, code in EXTERNAL_DUTY.items():
                if code in systems and category in known:
                    do_set_duty_rule(actor, category=category, grid=city.code,
                                     external_system=code)
                    rules[category] = code
    return ExternalLoad(adapters=adapters, mappings=mappings, rules=rules)


def _known(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows whose small class this city has (another city's classification may lack
    some)."""
    known = set(_known_codes([r["category"] for r in rows]))
    return [r for r in rows if r["category"] in known]


def _known_codes(codes: list[str]) -> list[str]:
    return list(CaseCategory.objects.filter(code__in=codes, parent__isnull=False)
                .values_list("code", flat=True))


def _center_admin() -> AbstractBaseUser | None:
    """The demo's center administrator (the duty list is theirs to keep), else the
    superuser."""
    users = get_user_model().objects
    return users.filter(username="center_admin").first() or users.filter(
        username="admin", is_superuser=True).first()
