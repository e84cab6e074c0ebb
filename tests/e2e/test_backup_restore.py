"""`wangge backup` / `wangge restore` through the real CLI, each installation on its own data
dir and database (PostgreSQL when WANGGE_DATABASE_URL is a postgres URL, SQLite otherwise):
the demo with a case photo and an API token round-trips; what comes back has the same
counts, unmasks, serves the photo file and accepts the token over HTTP. A damaged or foreign
archive is refused before anything is touched; a missing key file stops the start."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, _database_url, _drop_database, _free_port, make_env

PHOTO = """
import io
from django.contrib.auth import get_user_model
from PIL import Image
from wangge.cases import access
from wangge.cases.actions.intake import do_add_photos
from wangge.cases.models import Case
from wangge.cases.workflow import PHOTO_STAGES
buf = io.BytesIO()
Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
users = list(get_user_model().objects.filter(username__in=["dispatcher", "gridworker"]))
states = set().union(*(s for _, s in PHOTO_STAGES.values()))
photo = None
for case in Case.objects.filter(state__in=states).order_by("pk"):
    for user in users:
        for stage, (actors, ok) in PHOTO_STAGES.items():
            if photo is None and case.state in ok and access.actor_kinds(user, case) & actors:
                photo = do_add_photos(case, user, stage=stage, photos=[buf.getvalue()])[0]
    if photo:
        break
print("RESULT", json.dumps({"pk": photo.pk, "sha256": photo.sha256}))
"""

# what an operator would look at: counts, one unmasked person, the photo file
FACTS = """
import hashlib
from django.contrib.auth import get_user_model
from PIL import Image
from wangge.cases.models import CasePhoto
from wangge.core.backup import current_counts
from wangge.registry import access, actions
from wangge.registry.models import Resident
user = get_user_model().objects.get(username="gridworker")
resident = next(r for r in Resident.objects.order_by("pk")[:2000] if access.can_unmask(user, r))
plain = actions.do_unmask(resident, user, purpose="备份核对")
photo = CasePhoto.objects.get()
with photo.file.open("rb") as fh:
    data = fh.read()
with photo.file.open("rb") as fh:
    size = Image.open(fh).size
print("RESULT", json.dumps({"counts": current_counts(), "resident": resident.pk,
      "plain": plain, "photo_sha256": hashlib.sha256(data).hexdigest(),
      "photo_recorded": photo.sha256, "photo_size": list(size)}))
"""


@dataclass
class Install:
    data_dir: Path
    db_url: str | None
    env: dict[str, str]

    def cli(self, *args: str, check: bool = True, timeout: float = 600
            ) -> subprocess.CompletedProcess[str]:
        run = subprocess.run([str(BIN / "wangge"), *args], env=self.env, capture_output=True,
                             text=True, timeout=timeout)
        if check and run.returncode:
            raise AssertionError(f"wangge {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
        return run

    def python(self, code: str) -> dict:
        out = self.cli("manage", "shell", "-c", "import json\n" + code).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
        return json.loads(line.removeprefix("RESULT "))

    def database_is_empty(self) -> bool:
        counts = self.python("from wangge.core.backup import current_counts\n"
                             "print('RESULT', json.dumps(current_counts()))")
        return not any(counts.values())


def _install(tmp_path_factory: pytest.TempPathFactory, name: str) -> Install:
    data_dir = tmp_path_factory.mktemp(name)
    db_url = _database_url(name)
    return Install(data_dir, db_url, make_env(data_dir, db_url))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Install, str, dict]]:
    """The demo city (a thinner year of cases) with a case photo and an API token."""
    src = _install(tmp_path_factory, "backup_src")
    try:
        src.cli("setup")
        # two weeks of fieldwork, not 400 days: every kind of row round-trips the same,
        # without 700,000 of them to dump and restore twice
        src.cli("demo", "load", "--cases", "1000", "--fieldwork-days", "14")
        src.python(PHOTO)
        token = src.cli("tokens", "create", "--user", "gridworker").stdout.strip().splitlines()[-1]
        yield src, token, src.python(FACTS)
    finally:
        _drop_database(src.db_url)


@pytest.fixture(scope="module")
def archive(source: tuple[Install, str, dict], tmp_path_factory: pytest.TempPathFactory
            ) -> Path:
    src, _, _ = source
    path = tmp_path_factory.mktemp("archives") / "wangge-backup.zip"
    run = src.cli("backup", "-o", str(path))
    assert "store it encrypted and offline" in run.stderr
    return path


@pytest.fixture
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    """A fresh data dir and an empty database."""
    dst = _install(tmp_path_factory, "backup_dst")
    try:
        yield dst
    finally:
        _drop_database(dst.db_url)


def _serve(install: Install) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(BIN / "wangge"), "serve", "--port", str(port), "--workers", "1",
         "--no-collectstatic"],
        env=install.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("wangge serve did not start")
        time.sleep(0.3)


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


def test_the_demo_round_trips_with_photo_token_and_keys(
    source: tuple[Install, str, dict], archive: Path, target: Install
) -> None:
    src, token, before = source
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    assert manifest["counts"] == before["counts"]
    assert before["counts"]["photos"] == 1 and before["counts"]["tokens"] == 1
    assert before["counts"]["residents"] == 20_000
    names = {f["path"] for f in manifest["files"]}
    assert {"keys/data_keys.json", "keys/secret_key"} <= names
    assert any(n.startswith("media/cases/") for n in names)

    run = target.cli("restore", str(archive))
    assert "residents     20000  ok" in run.stdout and "photos" in run.stdout
    assert (target.data_dir / "data_keys.json").read_bytes() == (
        src.data_dir / "data_keys.json").read_bytes()
    assert (target.data_dir / "secret_key").read_text().strip() == (
        src.data_dir / "secret_key").read_text().strip()
    assert (target.data_dir / "data_keys.json").stat().st_mode & 0o777 == 0o600

    after = target.python(FACTS)
    assert after["counts"] == before["counts"]
    assert after["resident"] == before["resident"] and after["plain"] == before["plain"]
    assert after["photo_sha256"] == after["photo_recorded"] == before["photo_sha256"]
    assert after["photo_size"] == [64, 48]
    assert "the keys match this database" in target.cli("keys", "status").stdout

    # the restored server accepts the token and unmasks through the API
    proc, url = _serve(target)
    try:
        unmask = f"{url}/api/v1/registry/residents/{before['resident']}/unmask"
        status, body = _post(unmask, token, {"purpose": "备份核对"})
        assert status == 200 and body["id_number"] == before["plain"]["id_number"]
        assert _post(unmask, token[:-2] + "xx", {"purpose": "备份核对"})[0] in (401, 403)
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    # a second restore into the now populated database is refused
    again = target.cli("restore", str(archive), check=False)
    assert again.returncode != 0 and "not empty" in again.stderr


def _rewrite(archive: Path, out: Path, change: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(archive) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change.get(info.filename, zin.read(info.filename)))
        for name in sorted(set(change) - set(zin.namelist())):  # members added
            zout.writestr(name, change[name])
    return out


def test_a_bad_archive_is_refused_before_anything_is_touched(
    archive: Path, target: Install, tmp_path: Path
) -> None:
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    db_member = manifest["database"]["member"]
    other = "postgresql" if manifest["database"]["vendor"] == "sqlite" else "sqlite"
    foreign = {**manifest, "database": {**manifest["database"], "vendor": other}}
    wrong_keys = json.loads(zipfile.ZipFile(archive).read("keys/data_keys.json"))
    wrong_keys["hash_key"] = "A" * 43 + "="
    cases = {
        "damaged": ({db_member: b"not a database"}, "damaged"),
        "vendor": ({"manifest.json": json.dumps(foreign).encode()},
                   f"backup of a {other} database"),
        "version": ({"manifest.json": json.dumps({**manifest, "format_version": 99}).encode()},
                    "unknown backup format version 99"),
    }
    for name, (change, message) in cases.items():
        bad = _rewrite(archive, tmp_path / f"{name}.zip", change)
        run = target.cli("restore", str(bad), check=False)
        assert run.returncode != 0 and message in run.stderr, (name, run.stderr)
    # keys that do not match the recorded fingerprints (the manifest lists their new hash)
    keys_text = json.dumps(wrong_keys).encode()
    forged = {**manifest, "files": [
        {**f, "sha256": hashlib.sha256(keys_text).hexdigest(), "size": len(keys_text)}
        if f["path"] == "keys/data_keys.json" else f for f in manifest["files"]]}
    bad = _rewrite(archive, tmp_path / "keys.zip", {
        "keys/data_keys.json": keys_text, "manifest.json": json.dumps(forged).encode()})
    run = target.cli("restore", str(bad), check=False)
    assert run.returncode != 0 and "do not match the fingerprints" in run.stderr
    # a media member whose name joins to an absolute path (`media//tmp/…`), listed with its
    # right sha256: refused, and nothing written there
    escaped = tmp_path / "escaped" / "x.sh"
    payload = b"#!/bin/sh\necho owned\n"
    member = f"media/{escaped}"
    assert member.startswith("media//")
    listed = {**manifest, "files": [*manifest["files"], {
        "path": member, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}]}
    bad = _rewrite(archive, tmp_path / "escape.zip", {
        member: payload, "manifest.json": json.dumps(listed).encode()})
    run = target.cli("restore", str(bad), check=False)
    assert run.returncode != 0 and "unsafe path" in run.stderr, run.stderr
    assert not (tmp_path / "escaped").exists()
    # nothing was touched
    assert not (target.data_dir / "data_keys.json").exists()
    assert not (target.data_dir / "media").exists()
    assert target.database_is_empty()


def test_a_missing_key_file_stops_the_start_and_names_the_file(
    source: tuple[Install, str, dict], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Defect 4: an empty data dir against a populated database."""
    src, _, _ = source
    empty = tmp_path_factory.mktemp("backup_empty_dir")
    bare = Install(empty, src.db_url, make_env(empty, src.db_url))
    if src.db_url is None:  # SQLite lives in the data dir: the same database, no keys
        shutil.copy(src.data_dir / "wangge.sqlite3", empty / "wangge.sqlite3")
    for args in (("worker", "--once"), ("serve", "--port", str(_free_port()))):
        run = bare.cli(*args, check=False, timeout=120)
        assert run.returncode != 0, args
        assert "wangge.E001" in run.stderr and str(empty / "data_keys.json") in run.stderr
    status = bare.cli("keys", "status", check=False)
    assert status.returncode != 0 and "MISSING" in status.stdout
    assert not (empty / "data_keys.json").exists()
    # the right key file put back: the start-up check passes
    shutil.copy(src.data_dir / "data_keys.json", empty / "data_keys.json")
    assert "the keys match this database" in bare.cli("keys", "status").stdout
    assert os.stat(empty / "data_keys.json").st_size > 0


def test_an_archive_without_keys_needs_the_key_file_and_checks_it(
    source: tuple[Install, str, dict], target: Install, tmp_path: Path
) -> None:
    src, _, before = source
    bare = tmp_path / "bare.zip"
    run = src.cli("backup", "-o", str(bare), "--without-keys")
    assert "--without-keys" in run.stderr
    names = zipfile.ZipFile(bare).namelist()
    assert not any(n.startswith("keys/") for n in names)
    refused = target.cli("restore", str(bare), check=False)
    assert refused.returncode != 0 and "carries no data keys" in refused.stderr
    other = tmp_path / "other_keys.json"
    other.write_text(json.dumps({"hash_key": "A" * 43 + "=",
                                 "keys": [{"id": 1, "key": "B" * 43 + "="}]}))
    wrong = target.cli("restore", str(bare), "--keys", str(other), check=False)
    assert wrong.returncode != 0 and "do not match the fingerprints" in wrong.stderr
    assert target.database_is_empty() and not (target.data_dir / "data_keys.json").exists()
    target.cli("restore", str(bare), "--keys", str(src.data_dir / "data_keys.json"))
    after = target.python(FACTS)
    assert after["counts"] == before["counts"] and after["plain"] == before["plain"]


def test_keys_from_the_environment_are_carried_and_said_so(
    source: tuple[Install, str, dict], tmp_path: Path
) -> None:
    src, _, _ = source
    keys = (src.data_dir / "data_keys.json").read_text()
    # the keys only in WANGGE_DATA_KEYS: a data dir without the key file
    env_dir = tmp_path / "env-dir"
    env_dir.mkdir()
    if src.db_url is None:
        shutil.copy(src.data_dir / "wangge.sqlite3", env_dir / "wangge.sqlite3")
    shutil.copytree(src.data_dir / "media", env_dir / "media")
    env_install = Install(env_dir, src.db_url,
                          {**make_env(env_dir, src.db_url), "WANGGE_DATA_KEYS": keys})
    out = tmp_path / "env.zip"
    run = env_install.cli("backup", "-o", str(out))
    assert "WANGGE_DATA_KEYS" in run.stderr
    with zipfile.ZipFile(out) as zf:
        assert zf.read("keys/data_keys.json").decode() == keys
        assert json.loads(zf.read("manifest.json"))["keys_source"] == "WANGGE_DATA_KEYS"
    assert not (env_dir / "data_keys.json").exists()


# pg_restore that dies part-way: the real one's SQL up to a number of rows into the COPY block
# of one table (optionally half a row more), then exit 1, as a crash or a full disk would
CUT_PG_RESTORE = """
import os, subprocess, sys
real, table = os.environ["CUT_REAL_PG_RESTORE"], os.environ["CUT_TABLE"].encode()
rows, half = int(os.environ["CUT_ROWS"]), os.environ["CUT_HALF_ROW"] == "1"
proc = subprocess.Popen([real, *sys.argv[1:]], stdout=subprocess.PIPE)
out, copying, n = sys.stdout.buffer, False, 0
for line in proc.stdout:
    if copying and n == rows:
        out.write(line[: len(line) // 2] if half else b"")
        out.flush()
        proc.kill()
        sys.stderr.write("pg_restore cut inside COPY\\n")
        sys.exit(1)
    n += copying
    copying = copying or line.startswith(b"COPY public." + table + b" ")
    out.write(line)
sys.stderr.write("table not found\\n")
sys.exit(1)
"""


def test_a_postgres_restore_cut_inside_a_copy_block_leaves_the_database_empty(
    source: tuple[Install, str, dict], target: Install, tmp_path: Path
) -> None:
    """pg_restore dying in the middle of `COPY … FROM stdin`: whatever psql read (lines after
    the cut included, as COPY data) is never committed."""
    src, _, _ = source
    if src.db_url is None:
        pytest.skip("PostgreSQL restore (WANGGE_DATABASE_URL unset)")
    # a one-column text table: any line after a cut at a row boundary is a valid row of it
    src.python("from django.db import connection\n"
               "with connection.cursor() as c:\n"
               "    c.execute('CREATE TABLE backup_probe (note text)')\n"
               "    c.execute(\"INSERT INTO backup_probe VALUES ('a'), ('b'), ('c')\")\n"
               "print('RESULT', 1)")
    try:
        dump = tmp_path / "probe.zip"
        src.cli("backup", "-o", str(dump))
    finally:
        src.python("from django.db import connection\n"
                   "connection.cursor().execute('DROP TABLE backup_probe')\nprint('RESULT', 1)")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "pg_restore"
    wrapper.write_text(f"#!{sys.executable}\n{CUT_PG_RESTORE}")
    wrapper.chmod(0o755)
    real = shutil.which("pg_restore", path=target.env.get("PATH"))
    assert real is not None
    for table, rows, half in (("backup_probe", 2, False), ("registry_resident", 100, True)):
        env = {**target.env, "PATH": f"{bindir}:{target.env.get('PATH', '')}",
               "CUT_REAL_PG_RESTORE": real, "CUT_TABLE": table, "CUT_ROWS": str(rows),
               "CUT_HALF_ROW": "1" if half else "0"}
        run = subprocess.run([str(BIN / "wangge"), "restore", str(dump)], env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode != 0, table
        assert "pg_restore cut inside COPY" in run.stderr, run.stderr
        assert "the database is unchanged" in run.stderr
        tables = target.python("from django.db import connection\n"
                               "print('RESULT', json.dumps(connection.introspection"
                               ".table_names()))")
        assert tables == [], (table, tables[:5])
    assert not (target.data_dir / "data_keys.json").exists()

