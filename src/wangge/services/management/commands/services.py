"""`wangge services import FILE [--user U] [--draft] | export [-o FILE] [--format json|xlsx]
| reindex`: the service catalogue as a file, and the search index rebuilt."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wangge.services import exchange, search
from wangge.services.actions.catalogue import do_import_catalogue
from wangge.services.errors import IllegalStep


class Command(BaseCommand):
    help = "Import or export the service catalogue (JSON or XLSX), or rebuild the search index."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create/update items from a .json or .xlsx file "
                                            "(all or nothing)")
        imp.add_argument("file", help="catalogue.json or catalogue.xlsx")
        imp.add_argument("--user", help="the catalogue editor who imports (audit); "
                                        "default: the system")
        imp.add_argument("--draft", action="store_true",
                         help="save changed items as drafts instead of publishing them")
        exp = sub.add_parser("export", help="the published catalogue as JSON or XLSX")
        exp.add_argument("-o", "--output", help="file to write (default: standard output, "
                                                "JSON only)")
        exp.add_argument("--format", choices=["json", "xlsx"],
                         help="default: from the output's extension, else json")
        sub.add_parser("reindex", help="rebuild the search index of every item")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _import(self, opts: dict[str, Any]) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = None
        if opts["user"]:
            actor = get_user_model().objects.filter(username=opts["user"]).first()
            if actor is None:
                raise CommandError(f"{opts['user']}: no such user")
        parsed = exchange.parse_file(path.name, path.read_bytes())
        if parsed.errors:
            self._fail(parsed, parsed.errors)
        t0 = time.perf_counter()
        try:
            report = do_import_catalogue(parsed.rows, actor, publish=not opts["draft"])
        except IllegalStep as e:
            raise CommandError(str(e)) from e
        if report.errors:
            self._fail(parsed, report.errors)
        s = report.summary()
        what = "draft(s)" if opts["draft"] else "published"
        self.stdout.write(f"{path.name}: {s['created']} created, {s['updated']} updated "
                          f"({what}), {s['unchanged']} unchanged "
                          f"in {time.perf_counter() - t0:.2f} s")

    def _fail(self, parsed: exchange.Parsed, errors: list[Any]) -> None:
        for line in parsed.messages(errors):
            self.stderr.write(line)
        raise CommandError(f"{len(errors)} error(s); nothing was imported")

    def _export(self, opts: dict[str, Any]) -> None:
        out = opts["output"]
        fmt = opts["format"] or ("xlsx" if out and out.lower().endswith(".xlsx") else "json")
        rows = exchange.catalogue_rows()
        data = exchange.to_xlsx(rows) if fmt == "xlsx" else exchange.to_json(rows)
        if out:
            Path(out).write_bytes(data)
            self.stdout.write(f"{out}: {len(rows)} item(s) ({fmt})")
        elif fmt == "xlsx":
            raise CommandError("an XLSX export needs -o FILE")
        else:
            self.stdout.write(data.decode("utf-8"))

    def _reindex(self, opts: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        n = search.reindex_all()
        self.stdout.write(f"{n} item(s) indexed in {time.perf_counter() - t0:.2f} s")
