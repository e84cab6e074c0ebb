"""Failed logins lock the stranger, not the user they name: per user name and address, and
a slower limit per address; behind a trusted proxy the client's own address counts."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from wangge.demo.loader import DEMO_PASSWORD
from wangge.web.login_limits import client_address

pytestmark = pytest.mark.django_db


def login(username: str, password: str, address: str, **headers: str) -> int:
    client = Client(REMOTE_ADDR=address, **headers)
    return client.post("/login/", {"username": username, "password": password}).status_code


def test_a_stranger_locks_only_themselves_out_of_a_named_account() -> None:
    for _ in range(5):
        login("leader", "guess", "198.51.100.9")
    assert login("leader", DEMO_PASSWORD, "198.51.100.9") == 429
    assert login("leader", DEMO_PASSWORD, "192.0.2.10") == 302  # the leader, at the office


def test_one_address_trying_many_names_is_locked_at_the_address_limit(settings) -> None:
    settings.WANGGE_LOGIN_ADDRESS_LIMIT = 12
    names = [f"guess{i}" for i in range(4)]
    for name in names:  # three failures each: under the per-name limit of five
        for _ in range(3):
            assert login(name, "x", "198.51.100.7") in (200, 429)
    assert login("dispatcher", DEMO_PASSWORD, "198.51.100.7") == 429
    assert login("dispatcher", DEMO_PASSWORD, "198.51.100.8") == 302


def test_below_the_address_limit_nothing_is_locked(settings) -> None:
    settings.WANGGE_LOGIN_ADDRESS_LIMIT = 12
    for name in ("guess1", "guess2", "guess3"):
        for _ in range(3):
            login(name, "x", "198.51.100.6")
    assert login("dispatcher", DEMO_PASSWORD, "198.51.100.6") == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings) -> None:
    settings.WANGGE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(5):
        login("leader", "guess", "10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert login("leader", DEMO_PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5") == 429
    # the same proxy, another client: not locked
    assert login("leader", DEMO_PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.6") == 302


def test_an_untrusted_peer_cannot_dodge_the_lock_with_forged_headers() -> None:
    for i in range(5):
        login("leader", "guess", "198.51.100.20", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert login("leader", DEMO_PASSWORD, "198.51.100.20",
                 HTTP_X_FORWARDED_FOR="203.0.113.99") == 429


addresses = st.ip_addresses(v=4).map(str)


@given(peer=addresses, hops=st.lists(addresses, max_size=4), trusted=st.booleans())
def test_client_address_believes_only_trusted_hops(peer: str, hops: list[str],
                                                   trusted: bool) -> None:
    from django.test import override_settings

    proxies = [peer] if trusted else []
    request = RequestFactory().get("/", REMOTE_ADDR=peer,
                                   HTTP_X_FORWARDED_FOR=", ".join(hops))
    with override_settings(WANGGE_TRUSTED_PROXIES=proxies):
        got = client_address(request)
    if not trusted:
        assert got == peer  # the header is ignored
    else:
        untrusted = [h for h in hops if h != peer]
        expected = untrusted[-1] if untrusted else peer
        assert got == str(ipaddress.ip_address(expected))


def test_a_bad_proxy_entry_is_ignored_at_request_time(settings) -> None:
    settings.WANGGE_TRUSTED_PROXIES = ["proxy.local", "10.0.0.0/8"]
    assert login("dispatcher", DEMO_PASSWORD, "10.0.0.2",
                 HTTP_X_FORWARDED_FOR="203.0.113.5") == 302


def test_the_address_limit_can_be_turned_off(settings) -> None:
    settings.WANGGE_LOGIN_ADDRESS_LIMIT = 0
    for i in range(12):
        login(f"guess{i}", "x", "198.51.100.5")
    assert login("dispatcher", DEMO_PASSWORD, "198.51.100.5") == 302
