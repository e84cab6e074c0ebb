"""`wangge restore FILE [--force] [--keys FILE]`: check the archive, then put the database,
data keys, secret key and media files back and verify the row counts (docs/operations.md).
Stop `wangge serve` and `wangge worker` first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a `wangge backup` archive into an empty database (or --force)."
    # the keys are what restore brings back: the start-up key check must not stop it
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--force", action="store_true",
                            help="replace a database that is not empty, and different keys "
                                 "or media files in the data dir (the old key files are kept "
                                 "beside as *.replaced-TIMESTAMP)")
        parser.add_argument("--keys", type=Path, default=None,
                            help="data_keys.json to use (for archives made --without-keys)")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.monotonic()
        say = self.stdout.write if opts["verbosity"] > 1 else (lambda _: None)
        try:
            report = restore_backup(opts["archive"], force=opts["force"], keys_file=opts["keys"],
                                    say=say)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for note in report.notes:
            self.stderr.write(self.style.WARNING(f"note: {note}"))
        m = report.manifest
        self.stdout.write(f"backup of {m['created_at']} (wangge {m['app_version']}, "
                          f"{m['database']['vendor']})")
        for name, n in report.counts.items():
            self.stdout.write(f"  {name:<10} {n:>8}  ok")
        self.stdout.write(self.style.SUCCESS(
            f"restored and verified in {time.monotonic() - started:.1f} s; the keys match"))
