"""wangge (网格): grid-based social service management."""

__version__ = "0.1.0"
