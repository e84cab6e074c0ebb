"""Fixtures of the inbound tests: the 12345 adapter, and a case transferred to it (a test
module may define its own `adapter` or `order`, which then wins)."""

from __future__ import annotations

import pytest

from wangge.cases.models import ExternalOrder
from wangge.integration.models import Adapter
from wangge.integration.tests.inbound_support import make_adapter, transferred


@pytest.fixture
def adapter() -> Adapter:
    return make_adapter()


@pytest.fixture
def order(adapter: Adapter) -> ExternalOrder:
    return transferred()
