"""The job name `wangge.cases.sla.sweep`, kept for deployments whose WANGGE_WORKER_JOBS (or
whose JobRun history) still names it. The sweep lives in `cases.jobs`, the deadline rules
in `cases.actions.clocks`: import those, not this module."""

from __future__ import annotations

from wangge.cases.jobs import sweep

__all__ = ["sweep"]
