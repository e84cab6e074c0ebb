"""Simulated peers for the external systems (`wangge simulate hotline-12345|city-management`):
real HTTP servers speaking docs/external-systems.md, with a schedule of status call-backs,
faults and a control API for tests (docs/simulators.md). They stand on the standard library
and `integration.adapters.signing` only; nothing here touches our database."""

from wangge.integration.simulators.kinds import CITY_MANAGEMENT, HOTLINE_12345, KINDS, Kind
from wangge.integration.simulators.server import Config, Faults, Simulator

__all__ = ["CITY_MANAGEMENT", "HOTLINE_12345", "KINDS", "Config", "Faults", "Kind", "Simulator"]
