"""Start-up checks: a process refuses to start with data keys that do not belong to its
database (missing key file, a different key file, a key that sealed values need), before it
could serve a 500 or seal new values under the wrong key. Run by every management command
that runs Django's system checks (`serve`, `worker`, `setup`, `demo`, ...)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError

from wangge.core import crypto


@register("wangge")
def data_keys_match_database(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if app_configs is not None and not any(c.label == "core" for c in app_configs):
        return []
    try:
        if crypto._database_state() is None:
            # nothing migrated and nothing sealed (`wangge setup`): no key before there is a
            # database. Sealed values from before the fingerprint table are checked.
            return []
        crypto.keyring()  # checks (once per process) and, on an empty database, creates
    except crypto.KeyCheckError as exc:
        return [Error(
            str(exc),
            hint=f"Restore {exc.source} from your backup (`wangge restore FILE` puts it back), "
                 "or point WANGGE_DATA_DIR / WANGGE_DATA_KEYS at the right keys. "
                 "`wangge keys status` shows the fingerprints on both sides.",
            id="wangge.E001",
        )]
    except DatabaseError:
        return []  # no database yet (or not reachable): the command itself will say so
    return []
