"""The `wangge` command.

    wangge serve [--host H] [--port P]      production web server (gunicorn + whitenoise)
    wangge setup                            migrate, collect static files, seed calendar + SLA
    wangge demo load [--seed N] [--scale liling|province] [--if-empty]
    wangge grids import FILE | export [--level N] [--under CODE] [-o FILE]
    wangge tokens create --user NAME | --system CODE ; revoke PREFIX ; list
    wangge qr sheet --under CODE [-o FILE]
    wangge registry import FILE --kind residents|buildings|houses [--mode all|valid] [--user U]
    wangge registry export --user U [--grid CODE] -o FILE.xlsx
    wangge keys rotate | status
    wangge backup -o FILE.zip [--without-keys]   database, keys, secret key, media in one file
    wangge restore FILE.zip [--force] [--keys F] into an empty database; verifies counts
    wangge calendar show YEAR | import FILE [--note T] | export YEAR [-o FILE] | seed
    wangge sla policies | deadline --policy CODE --at 2026-09-30T16:00 [--json] | seed
    wangge worker [--once] [--interval S] [--sweep-every S]   periodic jobs + outbox delivery
    wangge analytics rebuild [--from DATE] | status   the daily rollups of the counters
    wangge subscriptions add --name N --topic 'case.*' --kind log|webhook [--url U] ; list
    wangge fieldwork plans [--date D] | areas --grid CODE | seed   day plans, patrol areas
    wangge services import FILE [--user U] [--draft]   the service catalogue (.json / .xlsx)
    wangge services export [-o FILE] [--format json|xlsx] | reindex   catalogue, search index
    wangge simulate hotline-12345|city-management --port P [...]   a peer system to talk to
    wangge manage ...                       any Django management command
"""

from __future__ import annotations

import os
import sys

#: subcommands that are our own management commands
COMMANDS = ("serve", "setup", "demo", "grids", "tokens", "qr", "registry", "keys", "calendar",
            "sla", "worker", "subscriptions", "backup", "restore", "analytics", "fieldwork",
            "services", "simulate")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    from django.core.management import execute_from_command_line

    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__.strip())
        return
    if args[0] == "manage":
        execute_from_command_line(["wangge manage", *args[1:]])
    elif args[0] in COMMANDS:
        execute_from_command_line(["wangge", *args])
    else:
        print(f"wangge: unknown command {args[0]!r}\n\n{__doc__.strip()}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
