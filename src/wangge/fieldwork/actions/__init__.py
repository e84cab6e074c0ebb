"""Every fieldwork write, one module per area. Importing the package registers every
envelope kind the field app may send (fieldwork.envelopes), so the app's ready() does."""

from __future__ import annotations

import importlib

AREAS = ["checkin", "tasks", "meetings", "plan", "patrol", "visits", "opinions", "diary",
         "outreach", "catalogue", "sync", "uploads", "case_reports", "register_edits"]


def load_all() -> None:
    for area in AREAS:
        importlib.import_module(f"wangge.fieldwork.actions.{area}")
