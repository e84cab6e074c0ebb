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
        # a thinner year of cases (plus the four stories): the default 24,000
        # would add about 4 s to every test session; two weeks of fieldwork, not 400 days
        load_demo(cases=2000, fieldwork_days=14)


@pytest.fixture
def login_as(django_user_model):  # type: ignore[no-untyped-def]
    """A test client signed in as one of the demo logins: `login_as("gridworker")`."""
    from django.test import Client

    def make(username: str) -> Client:
        client = Client()
        client.force_login(django_user_model.objects.get(username=username))
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    """The public limits count in Django's cache (per process): each test starts with none
    counted, so a test that tries ten wrong codes never makes the next one's right code a
    429."""
    from django.core.cache import cache

    cache.clear()
    yield
