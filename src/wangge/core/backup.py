"""Backup and restore of a whole installation in ONE zip archive.

    manifest.json             format version, app version, database vendor, created at, row
                              counts of the main tables, key fingerprints, applied migrations,
                              every other member with its size and sha256
    database/wangge.sqlite3   SQLite: a consistent copy made with the online backup API
    database/wangge.pgdump    PostgreSQL: `pg_dump --format=custom` of one snapshot
    keys/data_keys.json       the data keys (also when they come from WANGGE_DATA_KEYS)
    keys/secret_key           Django's secret key
    media/...                 uploaded files (case photos), MEDIA_ROOT as it is

The counts and fingerprints are read in the same snapshot the dump is made from, so restore
can verify them. `restore` checks the whole archive before it touches anything.
See docs/operations.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

import wangge
from wangge.core import crypto

FORMAT = "wangge-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEYS = "keys/data_keys.json"
SECRET = "keys/secret_key"
CHUNK = 1 << 20

#: the main tables whose row counts the manifest carries and restore verifies
MAIN_TABLES = {
    "grids": "territory.Grid",
    "people": "org.Person",
    "users": "auth.User",
    "residents": "registry.Resident",
    "buildings": "registry.Building",
    "cases": "cases.Case",
    "photos": "cases.CasePhoto",
    "tokens": "integration.ApiToken",
    "checkins": "fieldwork.CheckIn",
    "patrols": "fieldwork.Patrol",
    "visits": "fieldwork.Visit",
    "opinions": "fieldwork.Opinion",
    "uploads": "fieldwork.Upload",
}

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


def _quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------------------- shared helpers

def vendor() -> str:
    return connection.vendor  # "sqlite" | "postgresql"


def _tables() -> dict[str, str]:
    """{name in the manifest: db table} for the main tables this code knows."""
    out = {}
    for name, label in MAIN_TABLES.items():
        with contextlib.suppress(LookupError):
            out[name] = apps.get_model(label)._meta.db_table
    return out


def _count_rows(execute: Callable[[str], Any], existing: set[str]) -> dict[str, int]:
    return {name: (int(execute(f'SELECT COUNT(*) FROM "{table}"')[0][0])
                   if table in existing else 0)
            for name, table in _tables().items()}


def _fingerprint_rows(execute: Callable[[str], Any], existing: set[str]) -> list[dict[str, Any]]:
    from wangge.core.models import DataKeyFingerprint

    table = DataKeyFingerprint._meta.db_table
    if table not in existing:
        return []
    rows = execute(f'SELECT kind, key_id, fingerprint FROM "{table}" ORDER BY kind, key_id')
    return [{"kind": k, "key_id": int(i), "fingerprint": f} for k, i, f in rows]


def _django_execute(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def current_counts() -> dict[str, int]:
    return _count_rows(_django_execute, set(connection.introspection.table_names()))


def _fingerprint_map(rows: list[dict[str, Any]]) -> dict[tuple[str, int], str]:
    return {(r["kind"], int(r["key_id"])): r["fingerprint"] for r in rows}


def _key_problems(ring: crypto.Keyring, rows: list[dict[str, Any]]) -> list[str]:
    """How a ring disagrees with the fingerprints a backup recorded."""
    state = crypto.DatabaseState(_fingerprint_map(rows), {})
    return crypto.check_keys(ring, state)


def _pg_env() -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore/psql: the password never goes on argv."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for var, value in (("PGHOST", db.get("HOST")), ("PGPORT", db.get("PORT")),
                       ("PGUSER", db.get("USER")), ("PGPASSWORD", db.get("PASSWORD")),
                       ("PGDATABASE", db.get("NAME"))):
        if value:
            env[var] = str(value)
    options = db.get("OPTIONS") or {}
    for option, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                        ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY")):
        if options.get(option):
            env[var] = str(options[option])
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH (Debian: apt install postgresql-client)")
    return path


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _media_files() -> Iterator[tuple[Path, str]]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, "media/" + path.relative_to(root).as_posix()


# ---------------------------------------------------------------------------------- backup

@dataclass
class BackupReport:
    path: Path
    manifest: dict[str, Any]
    size: int
    notes: list[str] = field(default_factory=list)


class _Writer:
    """Zip members streamed in, each with its sha256 for the manifest."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.files: list[dict[str, Any]] = []

    def add_stream(self, name: str, src: IO[bytes], *, compress: bool) -> None:
        info = zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o600 << 16
        h, size = hashlib.sha256(), 0
        with self.zf.open(info, "w", force_zip64=True) as dst:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        self.files.append({"path": name, "size": size, "sha256": h.hexdigest()})

    def add_file(self, name: str, path: Path, *, compress: bool) -> None:
        with path.open("rb") as fh:
            self.add_stream(name, fh, compress=compress)

    def add_bytes(self, name: str, data: bytes) -> None:
        import io

        self.add_stream(name, io.BytesIO(data), compress=True)


def _snapshot_sqlite(target: Path) -> tuple[dict[str, int], list[dict[str, Any]], list[str]]:
    """A consistent copy of the live SQLite database through the online backup API (writers
    may go on meanwhile); counts, fingerprints and migrations read from that copy."""
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
    try:
        def execute(sql: str) -> list[tuple[Any, ...]]:
            return copy.execute(sql).fetchall()

        existing = {r[0] for r in execute("SELECT name FROM sqlite_master WHERE type='table'")}
        migrations = ([f"{a}.{n}" for a, n in execute(
            "SELECT app, name FROM django_migrations ORDER BY id")]
            if "django_migrations" in existing else [])
        # one file, no -wal beside it: the copy restores on its own
        copy.execute("PRAGMA journal_mode=DELETE")
        return _count_rows(execute, existing), _fingerprint_rows(execute, existing), migrations
    finally:
        copy.close()


@contextlib.contextmanager
def _pg_snapshot() -> Iterator[tuple[str, dict[str, int], list[dict[str, Any]], list[str]]]:
    """An exported snapshot (REPEATABLE READ) held open while pg_dump reads it, so the dump,
    the counts and the fingerprints are the same instant of the database."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        existing = set(connection.introspection.table_names())
        counts = _count_rows(_django_execute, existing)
        fps = _fingerprint_rows(_django_execute, existing)
        migrations = [f"{a}.{n}" for a, n in _django_execute(
            "SELECT app, name FROM django_migrations ORDER BY id")]
        yield snapshot, counts, fps, migrations


def make_backup(output: Path, *, with_keys: bool = True, say: Say = _quiet) -> BackupReport:
    """Write the archive to `output` (via a temporary file: never half an archive)."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    ring: crypto.Keyring | None = None
    if with_keys:
        try:
            ring = crypto.keyring()  # checked against the database: never back up wrong keys
        except crypto.CryptoError as exc:
            raise BackupError(f"{exc}\nA backup without matching keys cannot be restored; "
                              "use --without-keys only if you keep the keys elsewhere.") from exc
        if os.environ.get(crypto.ENV):
            notes.append("the data keys come from WANGGE_DATA_KEYS: the archive carries them "
                         f"as {KEYS}")
    else:
        notes.append("no keys in this archive (--without-keys): keep data_keys.json and the "
                     "secret key safe elsewhere; without them the sealed data cannot be read")
    partial = output.with_name(f".{output.name}.partial")
    kind = vendor()
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".wangge-backup-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            with zipfile.ZipFile(partial, "w", allowZip64=True, compresslevel=1) as zf:
                writer = _Writer(zf)
                say("database …")
                if kind == "sqlite":
                    db_file = tmp / "wangge.sqlite3"
                    counts, fps, migrations = _snapshot_sqlite(db_file)
                    writer.add_file("database/wangge.sqlite3", db_file, compress=True)
                    db_member = "database/wangge.sqlite3"
                elif kind == "postgresql":
                    db_file = tmp / "wangge.pgdump"
                    with _pg_snapshot() as (snapshot, counts, fps, migrations):
                        run = subprocess.run(
                            [_tool("pg_dump"), "--format=custom", "--no-password",
                             f"--snapshot={snapshot}", f"--file={db_file}"],
                            env=_pg_env(), capture_output=True, text=True)
                    if run.returncode:
                        raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
                    # already compressed by pg_dump
                    writer.add_file("database/wangge.pgdump", db_file, compress=False)
                    db_member = "database/wangge.pgdump"
                else:
                    raise BackupError(f"backups of {kind} databases are not supported")
                db_file.unlink()
                if ring is not None:
                    mismatch = _key_problems(ring, fps)
                    if mismatch:  # a rotation between the check and the snapshot
                        raise BackupError("the keys changed during the backup: "
                                          + "; ".join(mismatch) + ". Run it again.")
                    writer.add_bytes(KEYS, ring.to_json().encode())
                    writer.add_bytes(SECRET, settings.SECRET_KEY.encode())
                say("media files …")
                media = 0
                for path, name in _media_files():
                    # photos are JPEG/PNG/WebP: already compressed
                    writer.add_file(name, path, compress=False)
                    media += 1
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "app_version": wangge.__version__,
                    "database": {"vendor": kind, "member": db_member},
                    "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "counts": counts,
                    "key_fingerprints": fps,
                    "keys_included": ring is not None,
                    "keys_source": (None if ring is None else crypto.ENV
                                    if os.environ.get(crypto.ENV) else "data_keys.json"),
                    "secret_key_source": (None if ring is None else "WANGGE_SECRET_KEY"
                                          if os.environ.get("WANGGE_SECRET_KEY")
                                          else "secret_key"),
                    "media_files": media,
                    "migrations": migrations,
                    "files": writer.files,
                }
                zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            os.chmod(partial, 0o600)  # it holds the keys
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    return BackupReport(output, manifest, output.stat().st_size, notes)


# --------------------------------------------------------------------------------- restore

@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise BackupError(f"not a wangge backup: no {MANIFEST}") from None
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a wangge backup (manifest format)")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(f"unknown backup format version {version!r}; this wangge "
                          f"({wangge.__version__}) reads version {FORMAT_VERSION}")
    return manifest


def _safe_member(name: Any) -> str:
    """A member name that is a plain relative path, written the one way it normalises to:
    no empty, `.` or `..` parts, no doubled or leading slash, no backslash, no NUL."""
    ok = isinstance(name, str) and name not in ("", ".") and "\\" not in name and \
        "\x00" not in name
    if ok:
        path = PurePosixPath(name)
        ok = (name == str(path) and not path.is_absolute()
              and not any(part in (".", "..") for part in path.parts))
    if not ok:
        raise BackupError(f"unsafe path in the archive: {name!r}")
    return name


def _media_target(media_root: Path, member: str) -> Path:
    """Where a `media/…` member goes: a file that resolves (symbolic links followed) under
    MEDIA_ROOT, or a BackupError."""
    target = media_root / _safe_member(member).removeprefix("media/")
    root = media_root.resolve()
    resolved = target.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise BackupError(f"unsafe path in the archive: {member!r} would be written to "
                          f"{resolved}, outside {root}")
    return target


def verify_archive(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every listed file present, with its size and sha256; nothing unlisted."""
    listed = {_safe_member(f["path"]): f for f in manifest.get("files", [])}
    present = {i.filename for i in zf.infolist() if not i.is_dir()} - {MANIFEST}
    if missing := sorted(set(listed) - present):
        raise BackupError(f"the archive lacks {len(missing)} listed files: {missing[:5]}")
    if extra := sorted(present - set(listed)):
        raise BackupError(f"the archive holds files its manifest does not list: {extra[:5]}")
    for name, entry in listed.items():
        h, size = hashlib.sha256(), 0
        with zf.open(name) as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
        if h.hexdigest() != entry["sha256"] or size != entry["size"]:
            raise BackupError(f"{name} is damaged: its sha256 does not match the manifest")
    if manifest["database"]["member"] not in listed:
        raise BackupError("the archive holds no database dump")


def _known_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _target_is_empty() -> bool:
    existing = set(connection.introspection.table_names())
    return not any(_count_rows(_django_execute, existing).values())


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.restore.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _set_aside(path: Path, stamp: str) -> Path:
    aside = path.with_name(f"{path.name}.replaced-{stamp}")
    os.replace(path, aside)
    return aside


@dataclass
class _Plan:
    """What restore will write besides the database, decided before anything is touched."""

    keys: bytes | None = None  # data_keys.json to write (None: keep what is there)
    secret: bytes | None = None
    set_aside: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _plan_keys(zf: zipfile.ZipFile, manifest: dict[str, Any], *, force: bool, empty: bool,
               keys_file: Path | None) -> _Plan:
    plan = _Plan()
    fps = manifest.get("key_fingerprints", [])
    path = crypto.key_path()
    if keys_file is not None:
        archived = keys_file.read_bytes()
    elif manifest.get("keys_included"):
        archived = zf.read(KEYS)
    else:
        archived = None
    if archived is not None:
        try:
            ring = crypto.Keyring.from_json(archived.decode())
        except (ValueError, KeyError, crypto.CryptoError) as exc:
            raise BackupError(f"the data keys to restore are unreadable: {exc}") from exc
        if problems := _key_problems(ring, fps):
            raise BackupError("the data keys do not match the fingerprints the backup "
                              "recorded: " + "; ".join(problems))
    if env := os.environ.get(crypto.ENV):
        # the restored installation will read WANGGE_DATA_KEYS: they must be the right ones
        if problems := _key_problems(crypto.Keyring.from_json(env), fps):
            raise BackupError(
                "WANGGE_DATA_KEYS is set here but does not match the backup: "
                + "; ".join(problems) + ". Set it to the keys the backup carries "
                f"({KEYS} in the archive) or unset it.")
        plan.notes.append("keys come from WANGGE_DATA_KEYS here; no key file written")
    elif archived is None:
        if not path.exists():
            raise BackupError(f"this backup carries no data keys (made --without-keys): put "
                              f"the installation's data_keys.json at {path} or pass --keys FILE")
        if problems := _key_problems(crypto.Keyring.from_json(path.read_text()), fps):
            raise BackupError(f"{path} does not match the backup: " + "; ".join(problems))
    elif path.exists() and path.read_bytes() != archived:
        # a key file that seals nothing in an empty database is not worth keeping in place
        if not (force or empty):
            raise BackupError(f"{path} holds different data keys; refusing to replace them "
                              "(--force replaces them, keeping a copy beside)")
        plan.keys = archived
        plan.set_aside.append(path)
    elif not path.exists():
        plan.keys = archived
    if manifest.get("keys_included"):
        secret = zf.read(SECRET)
        spath = Path(settings.DATA_DIR) / "secret_key"
        if not spath.exists() or spath.read_bytes().strip() != secret.strip():
            plan.secret = secret
            # a fresh data dir's secret key (made when this command started) signed nothing
            if spath.exists() and not empty:
                plan.set_aside.append(spath)
        if os.environ.get("WANGGE_SECRET_KEY"):
            plan.notes.append("WANGGE_SECRET_KEY is set here and overrides the restored "
                              "secret_key file")
    return plan


def _restore_sqlite(dump: Path) -> None:
    """Copy the dump into the configured database file with the online backup API."""
    connection.close()
    target = settings.DATABASES["default"]["NAME"]
    src = sqlite3.connect(dump)
    dst = sqlite3.connect(target, timeout=60)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        src.close()
        dst.close()


def _restore_postgres(dump: Path) -> None:
    """Replace the public schema with the dump in ONE transaction that this code ends: psql
    gets `BEGIN`, the schema dropped and made anew, pg_restore's SQL streamed through, and
    `COMMIT` only once pg_restore has exited 0. Whatever goes wrong (an SQL error stops psql;
    pg_restore dying, even in the middle of a `COPY … FROM stdin` block), no COMMIT is sent
    and psql rolls the open transaction back when its input ends: the database is unchanged.

    The end of the transaction is never left to the stream itself: no `--single-transaction`
    (psql would commit whatever it read by the end of its input), no marker statement that a
    cut-off COPY block would swallow as data. A wangge dump holds no large objects, the only
    thing pg_restore wraps in its own BEGIN/COMMIT."""
    connection.close()
    env = _pg_env()
    restore = subprocess.Popen(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(dump)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    psql = subprocess.Popen(
        [_tool("psql"), "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
         "--file=-"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert restore.stdout is not None and psql.stdin is not None
    errors: list[bytes] = []

    def drain(stream: IO[bytes]) -> None:
        errors.append(stream.read())

    readers = [threading.Thread(target=drain, args=(p.stderr,)) for p in (restore, psql)]
    for t in readers:
        t.start()
    committed = False
    try:
        psql.stdin.write(b"BEGIN;\nDROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
        while chunk := restore.stdout.read(CHUNK):
            psql.stdin.write(chunk)
        if restore.wait() == 0:
            # a COPY block is closed by its own `\.` line in a complete dump
            psql.stdin.write(b"COMMIT;\n")
            committed = True
    except BrokenPipeError:  # psql stopped at an error: stop feeding it
        restore.kill()
    finally:
        with contextlib.suppress(BrokenPipeError):
            psql.stdin.close()  # without COMMIT: psql ends, the server rolls back
        restore.wait()
        psql.wait()
        for t in readers:
            t.join()
    if restore.returncode or psql.returncode or not committed:
        raise BackupError("restoring the PostgreSQL dump failed; the database is unchanged:\n"
                          + b"\n".join(errors).decode(errors="replace").strip())


def restore_backup(archive: Path, *, force: bool = False, keys_file: Path | None = None,
                   say: Say = _quiet) -> RestoreReport:
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from exc
    with zf, tempfile.TemporaryDirectory(dir=Path(settings.DATA_DIR),
                                         prefix=".wangge-restore-") as tmpdir:
        # 1. everything checked before anything is touched
        manifest = read_manifest(zf)
        say("checking the archive …")
        verify_archive(zf, manifest)
        source_vendor, here = manifest["database"]["vendor"], vendor()
        if source_vendor != here:
            raise BackupError(
                f"this is a backup of a {source_vendor} database; the database configured "
                f"here is {here}. Restore it into a {source_vendor} database (set or unset "
                "WANGGE_DATABASE_URL); moving between vendors is not supported.")
        if unknown := [m for m in manifest.get("migrations", []) if m not in
                       _known_migrations()]:
            raise BackupError(f"the backup comes from a newer wangge (migrations this code "
                              f"lacks: {unknown[:5]}); upgrade wangge first")
        empty = _target_is_empty()
        if not empty and not force:
            raise BackupError("the target database is not empty; restore into an empty "
                              "database, or pass --force to replace everything in it")
        plan = _plan_keys(zf, manifest, force=force, empty=empty, keys_file=keys_file)
        media_root = Path(settings.MEDIA_ROOT)
        media = [(f, _media_target(media_root, f["path"])) for f in manifest["files"]
                 if f["path"].startswith("media/")]
        for f, target in media:
            if target.exists() and not force and _sha256_file(target) != f["sha256"]:
                raise BackupError(f"{target} exists with other content; --force replaces it")
        # 2. the database
        say("database …")
        dump = Path(zf.extract(manifest["database"]["member"], tmpdir))
        if here == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgres(dump)
        dump.unlink()
        # 3. keys, secret key, media
        stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
        for path in plan.set_aside:
            plan.notes.append(f"kept the replaced {path.name} as {_set_aside(path, stamp).name}")
        if plan.keys is not None:
            _write_private(crypto.key_path(), plan.keys)
        if plan.secret is not None:
            _write_private(Path(settings.DATA_DIR) / "secret_key", plan.secret)
        say("media files …")
        for f, target in media:
            target = _media_target(media_root, f["path"])  # again: nothing changed meanwhile
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(f["path"]) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    # 4. verified: the schema brought up to this code, counts, keys against the database
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    counts = current_counts()
    expected = manifest["counts"]
    if diff := {k: (v, counts.get(k)) for k, v in expected.items() if counts.get(k) != v}:
        raise BackupError(f"the restored database's counts differ from the manifest "
                          f"(expected, found): {diff}")
    crypto._cache = None
    try:
        crypto.keyring()
    except crypto.CryptoError as exc:
        raise BackupError(f"restored, but the keys do not open the data: {exc}") from exc
    return RestoreReport(manifest, counts, plan.notes)
