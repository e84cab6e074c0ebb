"""The migrations that turn external systems into departments of kind `external` keep what
pointed at them: a database with a system, its rule, case and subscription (written at the
old schema) comes out with all three pointing at the system's department.

It runs in its own process and data dir (a fresh SQLite database): migrating the shared test
database back and forth would disturb every other test. PostgreSQL: run the script by hand
with WANGGE_DATABASE_URL set to an empty database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("migrate_external_systems.py")


def test_existing_external_systems_become_departments(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WANGGE_DATABASE_URL"}
    env["WANGGE_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    moved = json.loads(done.stdout.strip().splitlines()[-1])
    assert moved == {
        "kind": "external", "name": "12345热线", "grid": "430281",
        "service_user": "system:hotline_12345", "rule": "hotline_12345",
        "case": "hotline_12345", "subscription": "hotline_12345", "water": "department",
    }
