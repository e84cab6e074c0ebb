"""Test set-up shared by every app.

The test database gets the synthetic Liling city once per session; each test runs in a
transaction on top of it and sees the same city.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from wangge.demo.loader import load_demo

    with django_db_blocker.unblock():
        load_demo()
