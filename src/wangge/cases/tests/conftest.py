from __future__ import annotations

import pytest

from wangge.territory.models import Grid


@pytest.fixture
def spot() -> tuple[float, float]:
    """A point in 胜利社区第1网格, the demo grid worker's grid."""
    grid = Grid.objects.get(name="胜利社区第1网格")
    return grid.label_lng, grid.label_lat


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Photos go to a temporary folder, never into the data directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff_of(django_user_model, login_as):  # type: ignore[no-untyped-def]
    """A logged-in member of a city department: `staff_of("water")`."""
    from wangge.org.actions import do_assign_role
    from wangge.org.models import Department, Person, Role

    def make(code: str):  # type: ignore[no-untyped-def]
        username = f"test-{code}"
        if not django_user_model.objects.filter(username=username).exists():
            user = django_user_model.objects.create(username=username)
            person = Person.objects.create(name=f"{code}测试员", user=user)
            do_assign_role(person, Role.DEPARTMENT_STAFF, Grid.objects.get(level=0),
                           department=Department.objects.get(code=code))
        return login_as(username)

    return make
