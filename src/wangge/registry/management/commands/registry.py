"""`wangge registry import FILE --kind …` and `wangge registry export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from wangge.registry import actions, queries
from wangge.registry.export import residents_workbook
from wangge.registry.importer import KINDS, import_file, write_error_report
from wangge.registry.validation import RegistryError


class Command(BaseCommand):
    help = "Bulk import and masked export of the base registry."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV or XLSX file")
        imp.add_argument("file", type=Path)
        imp.add_argument("--kind", choices=KINDS, required=True)
        imp.add_argument("--mode", choices=["all", "valid"], default="all",
                         help="all: nothing unless every row is good; valid: the good rows")
        imp.add_argument("--errors", type=Path, help="error report (default FILE.errors.csv)")
        imp.add_argument("--user", help="import as this user (scope and history)")
        exp = sub.add_parser("export", help="residents as XLSX, masked")
        exp.add_argument("--user", required=True, help="export what this user may see")
        exp.add_argument("--grid", default="", help="only under this grid code")
        exp.add_argument("-o", "--output", type=Path, required=True)
        exp.add_argument("--unmasked", action="store_true",
                         help="plain ID numbers and phones (needs the permission and --purpose; "
                              "every person exported is logged)")
        exp.add_argument("--purpose", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = None
        if opts.get("user"):
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user named {opts['user']!r}")
        if opts["action"] == "export":
            qs = queries.search_residents(user, grid=opts["grid"])
            reveal = None
            if opts["unmasked"]:
                try:
                    actions.check_unmask(user, opts["purpose"])
                except (RegistryError, PermissionDenied) as e:
                    raise CommandError(f"--unmasked: {e}") from e

                def reveal(batch):  # type: ignore[no-untyped-def]
                    return actions.do_unmask_many(batch, user, purpose=opts["purpose"])
            opts["output"].write_bytes(residents_workbook(user, qs, reveal))
            how = "unmasked, logged" if reveal else "masked"
            self.stdout.write(f"wrote {qs.count()} residents ({how}) to {opts['output']}")
            return
        path: Path = opts["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        with tqdm(unit=" rows", disable=opts["verbosity"] == 0) as bar:
            report = import_file(path, opts["kind"], mode=opts["mode"], actor=user,
                                 progress=bar.update)
        self.stdout.write(
            f"{report.total} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.bad_rows} with errors"
        )
        if report.errors:
            out = opts["errors"] or path.with_name(path.name + ".errors.csv")
            write_error_report(report, out)
            self.stderr.write(f"error report: {out}")
            if not report.written:
                raise CommandError(
                    f"{report.bad_rows} bad row(s); nothing was imported (--mode valid imports "
                    "the good rows)"
                )
