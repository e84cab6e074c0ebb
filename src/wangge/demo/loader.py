"""Load the synthetic city into the database through the actions.

Grids go through `territory.actions.do_import_grids` (validated at Liling scale, the same
path a city's own GeoJSON takes); departments, people and roles through
`org.actions.do_seed_organisation`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone

import wangge.cases as cases_pkg
from wangge.analytics.schemes import do_seed_schemes
from wangge.cases.actions import (
    do_seed_classification,
    do_seed_inspection_items,
    do_seed_public_categories,
)
from wangge.demo import names
from wangge.demo.caseload import CaseLoad, load_demo_cases
from wangge.demo.catalogue import load_demo_catalogue
from wangge.demo.citygen import GridSpec, generate_city
from wangge.demo.departments import EXTERNAL_SYSTEMS, LINE_DEPARTMENTS
from wangge.demo.disputes import DisputesLoad, load_demo_disputes
from wangge.demo.external import ExternalLoad, load_demo_external_systems
from wangge.demo.fieldwork import FieldworkLoad, load_demo_fieldwork
from wangge.demo.people import generate_register
from wangge.demo.public_channels import load_public_channels
from wangge.demo.service_year import load_service_year
from wangge.org.actions import (
    do_ensure_external_department,
    do_give_login,
    do_seed_organisation,
)
from wangge.org.models import Department, Employment, Person, Role, RoleAssignment
from wangge.registry.access import UNMASK_PERMISSION
from wangge.registry.actions import do_seed_register
from wangge.territory.actions import do_import_grids
from wangge.territory.models import Grid
from wangge.territory.records import GridRecord

User = get_user_model()

DEMO_PASSWORD = "wangge-demo-2026"
START = dt.date(2026, 1, 1)
#: departments get work phones from their own block, clear of the people's
DEPT_PHONES = 900_000

#: demo login → (role, where: "city" | "town" | "village" | "basic", description)
DEMO_LOGINS: list[tuple[str, str, str, str]] = [
    ("dispatcher", Role.DISPATCHER, "city", "中心调度员：全市"),
    ("leader", Role.LEADER, "city", "领导：全市只读"),
    ("center_admin", Role.ADMIN, "city", "中心管理员：全市"),
    ("department", Role.DEPARTMENT_STAFF, "city", "部门人员：城市管理和综合执法局"),
    ("water", Role.DEPARTMENT_STAFF, "city", "部门人员：自来水公司"),
    ("police", Role.DEPARTMENT_STAFF, "city", "部门人员：公安局"),
    ("civil_affairs", Role.DEPARTMENT_STAFF, "city", "部门人员：民政局（预审）"),
    ("subcenter", Role.SUBCENTER_STAFF, "town", "分中心人员：来龙门街道"),
    ("station", Role.STATION_STAFF, "village", "工作站人员：胜利社区"),
    ("gridworker", Role.GRID_WORKER, "basic", "网格员：胜利社区第1网格"),
    ("grid_chief", Role.GRID_CHIEF, "village", "网格长：胜利社区"),
    ("party_group_leader", Role.PARTY_GROUP_LEADER, "village", "党小组长：胜利社区"),
    ("joint_group_leader", Role.JOINT_GROUP_LEADER, "village", "联组长：胜利社区"),
    ("supervisor", Role.SUPERVISOR, "town", "督导员：来龙门街道"),
    ("mediator", Role.MEDIATOR, "town", "调解员：来龙门街道"),
    ("community_mediator", Role.MEDIATOR, "village", "调解员：胜利社区人民调解委员会"),
    ("grid_police", Role.GRID_POLICE, "town", "网格警员：来龙门街道"),
    ("patroller", Role.PATROLLER, "town", "巡防员：来龙门街道"),
    ("info_officer", Role.INFO_OFFICER, "town", "网格信息员：来龙门街道"),
    ("first_responsible", Role.FIRST_RESPONSIBLE, "town", "第一责任人：来龙门街道"),
]

#: department logins → the department whose staff member gets the login (the demo stories
#: route cases to these three)
LOGIN_DEPARTMENTS = {"department": "urban-management", "water": "water",
                     "police": "public-security", "civil_affairs": "civil-affairs"}

#: demo logins that may unmask (with a stated purpose) inside their scope
UNMASK_LOGINS = {"gridworker", "station", "grid_police", "center_admin", "dispatcher"}

#: roles held on every town (level 2) and every village/community (level 3)
TOWN_ROLES = [Role.SUPERVISOR, Role.MEDIATOR, Role.GRID_POLICE, Role.PATROLLER,
              Role.INFO_OFFICER, Role.FIRST_RESPONSIBLE, Role.SUBCENTER_STAFF]
VILLAGE_ROLES = [Role.GRID_CHIEF, Role.PARTY_GROUP_LEADER, Role.JOINT_GROUP_LEADER,
                 Role.FIRST_RESPONSIBLE, Role.STATION_STAFF]
CITY_ROLES = [Role.FIRST_RESPONSIBLE, Role.DISPATCHER, Role.LEADER, Role.ADMIN]
#: mediators (调解员) of the disputes app, level by level: a basic grid's is the community's
#: 联组长 (one of the three chiefs, who knows its households; a role on each of its basic
#: grids, not 820 more people), a community's its 人民调解委员会 member (a new person at the
#: workstation), a town's the sub-center's (TOWN_ROLES), the city's these many
BASIC_MEDIATOR_ROLE = Role.JOINT_GROUP_LEADER
CITY_MEDIATORS = 2


@dataclass
class LoadReport:
    grids: int
    people: int
    register: dict[str, int]
    cases: CaseLoad | None = None
    fieldwork: FieldworkLoad | None = None
    services: dict[str, int] | None = None
    public: dict[str, int] | None = None
    external: ExternalLoad | None = None
    disputes: DisputesLoad | None = None


#: residents `make demo` loads: 2% of Liling's million, enough to feel real, loaded in
#: seconds; `wangge demo load --residents 1000000` loads the whole city
DEFAULT_RESIDENTS = 20_000
#: a year of cases: Liling handles tens of thousands a year (`--cases 0` for none)
DEFAULT_CASES = 24_000
#: days of grid workers' fieldwork before today: more than a year (`--fieldwork-days 0`
#: for none)
DEFAULT_FIELDWORK_DAYS = 400


def load_demo(
    *, seed: int = 2026, scale: str = "liling", residents: int = DEFAULT_RESIDENTS,
    cases: int = DEFAULT_CASES, progress: Callable[[str, int], None] | None = None,
    fieldwork_days: int | None = None, external_systems: bool = False,
) -> LoadReport:
    """`fieldwork_days`: days of fieldwork before today (default: DEFAULT_FIELDWORK_DAYS
    for Liling, none for the province, whose 100,000 workers would take hours).
    `external_systems`: the 12345 and 数字城管 adapters (pointing at `make demo`'s
    simulators), their mappings and the duty rules that send cases to them, last (`wangge
    demo load` does; the test session's city keeps its line departments' rules)."""
    if fieldwork_days is None:
        fieldwork_days = DEFAULT_FIELDWORK_DAYS if scale == "liling" else 0
    specs = generate_city(seed=seed, scale=scale)
    records = [GridRecord(s.code, s.name, s.level, s.kind, s.parent_code, s.geometry)
               for s in specs]
    tick = (lambda n: progress("grids", n)) if progress else None
    with transaction.atomic():
        do_import_grids(records, validate=(scale == "liling"), progress=tick)
        people = _seed_org(specs, seed)
        for code, name in EXTERNAL_SYSTEMS:
            do_ensure_external_department(code, name=name)
        _create_demo_logins()
        rows = json.loads((Path(cases_pkg.__file__).parent / "categories.json").read_text())
        do_seed_classification(rows, Grid.objects.get(level=0))
        do_seed_public_categories()  # the resident-facing names of its small classes
        items = json.loads((Path(cases_pkg.__file__).parent / "inspection_items.json").read_text())
        do_seed_inspection_items(items)
        do_seed_schemes()  # the default evaluation schemes (考核方案)
        counts = {}
        if residents:
            basic = [(s.code, s.kind, s.geometry) for s in specs if s.level == 4]
            register = generate_register(basic, residents, seed=seed)
            counts = do_seed_register(
                register, progress=(lambda n: progress("residents", n)) if progress else None)
        history = load_demo_cases(n=cases, seed=seed, progress=progress) if cases else None
        today = timezone.localdate()
        # the service hall's 664 items first: the fieldwork demo books proxy requests
        load_demo_catalogue()
        field = load_demo_fieldwork(
            seed=seed, since=today - dt.timedelta(days=fieldwork_days), until=today,
            progress=progress) if fieldwork_days else None
        # screening and mediation over the same days (their own span: the e2e server's
        # 62 days load 62 days of disputes), with the labour-wage story
        disputes = load_demo_disputes(seed=seed, since=today - dt.timedelta(
            days=fieldwork_days), until=today, progress=progress) if fieldwork_days else None
        # the service hall: a year of applications and proxy requests
        services = load_service_year(seed=seed, since=today - dt.timedelta(
            days=fieldwork_days), until=today, progress=progress) if fieldwork_days else None
        # the public channels over that year: resident reports, ratings and reopens,
        # residents' opinions and questions (after the cases and the grid workers' opinions)
        public = load_public_channels(seed=seed) if cases else None
        # after all history: only cases dispatched from now on are transferred
        external = load_demo_external_systems() if external_systems else None
    if connection.vendor == "postgresql":
        # statistics for what was just bulk-loaded: without them (autovacuum comes later)
        # the planner guessed 447 events per case and the handling-time subquery of the
        # monthly report ran 5 s instead of 35 ms
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return LoadReport(grids=len(specs), people=people, register=counts, cases=history,
                      fieldwork=field, services=services, public=public, external=external,
                      disputes=disputes)


def _seed_org(specs: list[GridSpec], seed: int) -> int:
    grids = {g.code: g for g in Grid.objects.only("id", "code", "name", "level", "path")}
    departments: list[Department] = []
    people: list[Person] = []
    roles: list[RoleAssignment] = []
    counter = iter(range(10**9))

    def person(dept: Department | None = None) -> Person:
        i = next(counter)
        p = Person(name=names.person_name(seed * 1_000_003 + i), work_phone=names.work_phone(i),
                   department=dept)
        people.append(p)
        return p

    def assign(p: Person, role: str, grid: Grid, dept: Department | None = None,
               **extra: object) -> None:
        roles.append(RoleAssignment(person=p, role=role, grid=grid, department=dept,
                                    started_on=START, **extra))

    city = next(g for g in grids.values() if g.level == 0)
    stations: dict[str, Department] = {}
    chiefs: dict[str, Person] = {}
    center = Department(code="center", name=f"{city.name}网格化管理服务中心",
                        kind=Department.Kind.CENTER, grid=city, phone=names.work_phone(DEPT_PHONES))
    departments.append(center)
    for i, (code, name) in enumerate(LINE_DEPARTMENTS):
        dept = Department(code=code, name=name, kind=Department.Kind.DEPARTMENT, grid=city,
                          phone=names.work_phone(DEPT_PHONES + 1 + i))
        departments.append(dept)
        assign(person(dept), Role.DEPARTMENT_STAFF, city, dept)
    for role in CITY_ROLES:
        assign(person(center), role, city, center)
    for spec in specs:
        grid = grids[spec.code]
        if spec.level == 2:
            dept = Department(code=f"subcenter-{spec.code}", name=f"{spec.name}网格化分中心",
                              kind=Department.Kind.SUBCENTER, grid=grid,
                              phone=names.work_phone(DEPT_PHONES + len(departments)))
            departments.append(dept)
            for role in TOWN_ROLES:
                assign(person(dept), role, grid, dept)
        elif spec.level == 3:
            dept = Department(code=f"station-{spec.code}", name=f"{spec.name}网格化工作站",
                              kind=Department.Kind.WORKSTATION, grid=grid,
                              phone=names.work_phone(DEPT_PHONES + len(departments)),
                              address=f"{spec.name}党群服务中心")
            departments.append(dept)
            stations[spec.code] = dept
            for role in VILLAGE_ROLES:
                p = person(dept)
                assign(p, role, grid, dept)
                if role == BASIC_MEDIATOR_ROLE:
                    chiefs[spec.code] = p
        elif spec.level == 4:
            employment = Employment.FULL_TIME if spec.kind == "urban" else Employment.PART_TIME
            assign(person(), Role.GRID_WORKER, grid, employment=employment, responsible=True)
    # the mediators last, so every other person keeps the name (and work phone) of its
    # place in the sequence
    for spec in specs:
        grid = grids[spec.code]
        if spec.level == 3:
            assign(person(stations[spec.code]), Role.MEDIATOR, grid, stations[spec.code])
        elif spec.level == 4 and spec.parent_code in chiefs:
            assign(chiefs[spec.parent_code], Role.MEDIATOR, grid, stations[spec.parent_code])
    for _ in range(CITY_MEDIATORS):
        assign(person(center), Role.MEDIATOR, city, center)
    do_seed_organisation(departments, people, roles)
    return len(people)


def _create_demo_logins() -> None:
    """One login per role (password DEMO_PASSWORD) plus the superuser `admin`."""
    password = make_password(DEMO_PASSWORD)  # hashed once: argon2 is slow on purpose
    admin, _ = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin.password = password
    admin.save(update_fields=["password"])
    # 来龙门街道 / 胜利社区 in Liling; the first sub-district and community elsewhere
    town = (Grid.objects.filter(level=2, name=names.CENTRAL_SUBDISTRICT).first()
            or Grid.objects.filter(level=2).order_by("code").first())
    village = (Grid.objects.filter(parent=town, name=names.CENTRAL_COMMUNITY).first()
               or Grid.objects.filter(parent=town).order_by("code").first())
    basic = Grid.objects.filter(parent=village).order_by("code").first()
    where = {"city": Grid.objects.get(level=0), "town": town, "village": village,
             "basic": basic}
    for username, role, level, _label in DEMO_LOGINS:
        rows = RoleAssignment.objects.filter(role=role, grid=where[level], ended_on__isnull=True)
        if username in LOGIN_DEPARTMENTS:
            rows = rows.filter(department__code=LOGIN_DEPARTMENTS[username])
        assignment = rows.select_related("person").order_by("id").first()
        if assignment is None or assignment.person.user_id:
            continue
        user = do_give_login(assignment.person, username, password_hash=password,
                             is_staff=(role == Role.ADMIN))
        if username in UNMASK_LOGINS:
            user.groups.add(_unmask_group())


def _unmask_group() -> Group:
    group, _ = Group.objects.get_or_create(name="可查看明文")
    app_label, codename = UNMASK_PERMISSION.split(".")
    group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                 codename=codename))
    return group


def demo_logins() -> list[tuple[str, str]]:
    """The demo logins that exist in this database, with what each can see."""
    labels = {"admin": "超级管理员", **{u: label for u, _r, _w, label in DEMO_LOGINS}}
    present = set(User.objects.filter(username__in=labels).values_list("username", flat=True))
    return [(u, label) for u, label in labels.items() if u in present]
