"""`wangge backup -o FILE`: the database, the data keys, the secret key and the media files
in one zip archive with a manifest (docs/operations.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.core.backup import BackupError, make_backup


class Command(BaseCommand):
    help = "Back up the database, data keys, secret key and media files into one archive."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("-o", "--output", required=True, type=Path,
                            help="archive to write (a .zip); it holds the keys: keep it safe")
        parser.add_argument("--without-keys", action="store_true",
                            help="leave the data keys and the secret key out (keep them "
                                 "elsewhere: without them the sealed data is lost)")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.monotonic()
        say = self.stdout.write if opts["verbosity"] > 1 else (lambda _: None)
        try:
            report = make_backup(opts["output"], with_keys=not opts["without_keys"], say=say)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        m = report.manifest
        for note in report.notes:
            self.stderr.write(self.style.WARNING(f"note: {note}"))
        if m["keys_included"]:
            self.stderr.write(self.style.WARNING(
                "this archive holds the data keys and the secret key: store it encrypted "
                "and offline"))
        counts = ", ".join(f"{k} {v}" for k, v in m["counts"].items())
        self.stdout.write(f"{m['database']['vendor']} database: {counts}; "
                          f"{m['media_files']} media files")
        self.stdout.write(self.style.SUCCESS(
            f"backup written to {report.path} ({report.size / 1e6:.1f} MB) "
            f"in {time.monotonic() - started:.1f} s"))
