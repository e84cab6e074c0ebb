"""Every write to departments, people and role assignments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from wangge.core import audit, outbox
from wangge.org.models import Department, Employment, Person, Role, RoleAssignment
from wangge.territory.models import Grid, Level


class RoleError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def _today() -> dt.date:
    return timezone.localdate()


def check_role(role: str, grid: Grid, *, employment: str, responsible: bool) -> None:
    """Raise RoleError (naming the field) unless the role fits the grid."""
    if role not in Role.values:
        raise RoleError("role", f"unknown role {role!r}")
    if responsible and role != Role.GRID_WORKER:
        raise RoleError("responsible", "only a grid worker can be the responsible worker")
    if role == Role.GRID_WORKER:
        if grid.level != Level.BASIC:
            raise RoleError("grid", "grid workers work on a basic (level-4) grid")
        if employment not in Employment.values:
            raise RoleError("employment", "a grid worker is full_time or part_time")


@transaction.atomic
def do_assign_role(
    person: Person,
    role: str,
    grid: Grid,
    *,
    department: Department | None = None,
    employment: str = "",
    responsible: bool = False,
    started_on: dt.date | None = None,
    actor: AbstractBaseUser | None = None,
) -> RoleAssignment:
    """Give a person a role on a grid. Making someone the responsible grid worker of a
    basic grid hands the grid over: the previous responsible worker's role ends today."""
    check_role(role, grid, employment=employment, responsible=responsible)
    started_on = started_on or _today()
    if responsible:
        previous = RoleAssignment.objects.select_for_update().filter(
            grid=grid, responsible=True, ended_on__isnull=True
        )
        for old in previous:
            do_end_role(old, ended_on=started_on, actor=actor)
    assignment = RoleAssignment.objects.create(
        person=person, role=role, grid=grid, department=department, employment=employment,
        responsible=responsible, started_on=started_on,
    )
    audit.record(
        "role.assign", actor=actor, object_type="person", object_id=person.pk,
        role=role, grid=grid.code, responsible=responsible,
    )
    outbox.enqueue("org.role_assigned", {"person": person.pk, "role": role, "grid": grid.code})
    return assignment


@transaction.atomic
def do_end_role(
    assignment: RoleAssignment,
    *,
    ended_on: dt.date | None = None,
    actor: AbstractBaseUser | None = None,
) -> RoleAssignment:
    if assignment.ended_on is None:
        assignment.ended_on = ended_on or _today()
        assignment.save(update_fields=["ended_on"])
        audit.record(
            "role.end", actor=actor, object_type="person", object_id=assignment.person_id,
            role=assignment.role, grid=assignment.grid.code,
        )
        outbox.enqueue(
            "org.role_ended",
            {"person": assignment.person_id, "role": assignment.role, "grid": assignment.grid.code},
        )
    return assignment


@transaction.atomic
def do_seed_organisation(
    departments: Sequence[Department],
    people: Sequence[Person],
    assignments: Sequence[RoleAssignment],
    *,
    actor: AbstractBaseUser | None = None,
) -> None:
    """Bulk load for the demo and for a city's first set-up from its staff list.

    `assignments` refer to people and departments by the (unsaved) objects in the other
    two lists; their ids are filled in here."""
    Department.objects.bulk_create(departments, batch_size=2000)
    for p in people:
        if p.department is not None:
            p.department_id = p.department.pk
    Person.objects.bulk_create(people, batch_size=2000)
    for a in assignments:
        a.person_id = a.person.pk
        a.department_id = a.department.pk if a.department else None
    RoleAssignment.objects.bulk_create(assignments, batch_size=2000)
    audit.record(
        "org.seed", actor=actor, object_type="org", departments=len(departments),
        people=len(people), assignments=len(assignments),
    )
    outbox.enqueue("org.seeded", {"departments": len(departments), "people": len(people)})


@transaction.atomic
def do_give_login(
    person: Person,
    username: str,
    *,
    password_hash: str,
    is_staff: bool = False,
    actor: AbstractBaseUser | None = None,
) -> AbstractBaseUser:
    """Create the person's console/app account. Takes a hash, not a password: callers hash
    (the demo hashes one password once for all its logins)."""
    if person.user_id:
        raise RoleError("person", f"{person} already has a login")
    user = get_user_model().objects.create(
        username=username, password=password_hash, is_staff=is_staff
    )
    person.user = user
    person.save(update_fields=["user"])
    audit.record("person.give_login", actor=actor, object_type="person", object_id=person.pk,
                 username=username)
    return user


@transaction.atomic
def do_save_department(department: Department, *, changed: Sequence[str] = (),
                       actor: AbstractBaseUser | None = None) -> Department:
    """Create or edit a department from the admin form (already validated there)."""
    created = department.pk is None
    department.save()
    audit.record("department.create" if created else "department.change", actor=actor,
                 object_type="department", object_id=department.pk, code=department.code,
                 fields=sorted(changed))
    outbox.enqueue("org.department_saved", {"department": department.pk,
                                            "code": department.code, "created": created})
    return department


@transaction.atomic
def do_save_person(person: Person, *, changed: Sequence[str] = (),
                   actor: AbstractBaseUser | None = None) -> Person:
    """Create or edit a person's record from the admin form; roles change only through
    do_assign_role / do_end_role."""
    created = person.pk is None
    person.save()
    audit.record("person.create" if created else "person.change", actor=actor,
                 object_type="person", object_id=person.pk, fields=sorted(changed))
    return person


@transaction.atomic
def do_ensure_external_department(
    code: str, *, name: str = "", actor: AbstractBaseUser | None = None
) -> Department:
    """The external system (a department of kind `external`) with this code, with its
    service user: created serving the city grid if new; an external department added in
    the admin without a service user gets one here. Another kind of department with the
    code is refused rather than turned into a system."""
    dept = Department.objects.select_for_update().filter(code=code).first()
    if dept is not None and dept.kind != Department.Kind.EXTERNAL:
        raise RoleError("code", f"{code} is a department of kind {dept.kind}, not external")
    if dept is not None and dept.service_user_id:
        return dept
    if dept is None:
        city = Grid.objects.filter(level=Level.CITY).order_by("path").first()
        if city is None:
            raise RoleError("grid", "load the territory first: an external system serves "
                                    "the city grid")
        dept = Department(code=code, name=name or code, kind=Department.Kind.EXTERNAL,
                          grid=city)
    user = get_user_model().objects.create(username=f"system:{code}")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    dept.service_user = user
    created = dept.pk is None
    dept.save()
    audit.record("department.create" if created else "department.change", actor=actor,
                 object_type="department", object_id=dept.pk, code=code, kind=dept.kind,
                 service_user=user.username)
    outbox.enqueue("org.department_saved", {"department": dept.pk, "code": code,
                                            "created": created})
    return dept
