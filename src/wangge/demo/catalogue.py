"""The demo's service catalogue: 664 synthetic items (placeholder until the catalogue slice
lands)."""

from __future__ import annotations


def load_demo_catalogue() -> int:
    """Load the catalogue where missing; returns the number of items added."""
    return 0
