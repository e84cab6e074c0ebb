"""The archive checks `wangge restore` makes before it touches anything (the full round trip
through the CLI is tests/e2e/test_backup_restore.py)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from wangge.core.backup import (
    FORMAT,
    FORMAT_VERSION,
    BackupError,
    _media_target,
    read_manifest,
    restore_backup,
    vendor,
    verify_archive,
)

MEMBERS = {"database/wangge.sqlite3": b"SQLite format 3\x00" + bytes(range(256)) * 4,
           "keys/data_keys.json": b'{"hash_key": "x", "keys": []}',
           "media/cases/1/ab.png": b"\x89PNG\r\n" + b"\x01" * 300}


def manifest_for(members: dict[str, bytes], **extra: Any) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "database": {"vendor": "sqlite", "member": "database/wangge.sqlite3"},
            "files": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                      for p, b in members.items()], **extra}


def archive(members: dict[str, bytes], manifest: dict[str, Any] | bytes) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", manifest if isinstance(manifest, bytes)
                    else json.dumps(manifest))
    buf.seek(0)
    return zipfile.ZipFile(buf)


def test_a_sound_archive_passes() -> None:
    zf = archive(MEMBERS, manifest_for(MEMBERS))
    verify_archive(zf, read_manifest(zf))


@pytest.mark.parametrize(("manifest", "message"), [
    (b"{not json", "not valid JSON"),
    ({"format": "something-else", "format_version": 1}, "not a wangge backup"),
    ({"format": FORMAT, "format_version": 2}, "unknown backup format version 2"),
    ({"format": FORMAT}, "unknown backup format version None"),
])
def test_a_foreign_or_future_manifest_is_refused(manifest: Any, message: str) -> None:
    with pytest.raises(BackupError, match=message):
        read_manifest(archive(MEMBERS, manifest))


def test_an_archive_without_manifest_is_not_a_backup() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("database/wangge.sqlite3", b"x")
    with pytest.raises(BackupError, match=r"no manifest\.json"):
        read_manifest(zipfile.ZipFile(buf))


@hsettings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(MEMBERS)), st.data())
def test_any_changed_byte_in_any_member_is_found(name: str, data: st.DataObject) -> None:
    content = MEMBERS[name]
    at = data.draw(st.integers(0, len(content) - 1))
    flip = data.draw(st.integers(1, 255))
    damaged = {**MEMBERS, name: content[:at] + bytes([content[at] ^ flip]) + content[at + 1:]}
    zf = archive(damaged, manifest_for(MEMBERS))
    with pytest.raises(BackupError, match=f"{name} is damaged"):
        verify_archive(zf, read_manifest(zf))


def test_missing_and_unlisted_members_are_refused() -> None:
    short = {k: v for k, v in MEMBERS.items() if not k.startswith("media/")}
    zf = archive(short, manifest_for(MEMBERS))
    with pytest.raises(BackupError, match="lacks 1 listed files"):
        verify_archive(zf, read_manifest(zf))
    extra = {**MEMBERS, "media/evil.sh": b"#!/bin/sh"}
    zf = archive(extra, manifest_for(MEMBERS))
    with pytest.raises(BackupError, match="does not list"):
        verify_archive(zf, read_manifest(zf))


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "media/../../x"])
def test_paths_leaving_the_data_dir_are_refused(path: str) -> None:
    members = {**MEMBERS, path: b"x"}
    zf = archive(members, manifest_for(members))
    with pytest.raises(BackupError, match="unsafe path"):
        verify_archive(zf, read_manifest(zf))


def test_an_archive_without_database_is_refused() -> None:
    members = {k: v for k, v in MEMBERS.items() if not k.startswith("database/")}
    zf = archive(members, manifest_for(members))
    with pytest.raises(BackupError, match="no database dump"):
        verify_archive(zf, read_manifest(zf))


@pytest.mark.parametrize("path", [
    "media//tmp/x", "media//etc/cron.d/x", "//etc/passwd", "media/./x", "media/x/", "./media/x",
    "media\\..\\..\\x", "media/a\\b", ".", "media/x\x00.png", "media/x/..", "media/x/.",
])
def test_paths_not_written_the_one_normal_way_are_refused(path: str) -> None:
    """`media//tmp/x` is neither absolute nor holds `..`, yet MEDIA_ROOT / "/tmp/x" is /tmp/x."""
    members = {**MEMBERS, path: b"x"}
    zf = archive(members, manifest_for(members))
    with pytest.raises(BackupError, match="unsafe path"):
        verify_archive(zf, read_manifest(zf))
    with pytest.raises(BackupError, match="unsafe path"):
        verify_archive(zf, {**read_manifest(zf), "files": [{"path": ""}]})


@hsettings(max_examples=300, deadline=None)
@given(st.text(alphabet="a./\\", min_size=1, max_size=12))
def test_every_accepted_media_path_stays_under_media_root(tail: str) -> None:
    root = Path("/srv/wangge/var/media")
    try:
        target = _media_target(root, "media/" + tail)
    except BackupError:
        return
    assert target.resolve().is_relative_to(root) and target.resolve() != root
    assert str(target) == f"{root}/{tail}"


def test_a_symbolic_link_in_media_root_leading_out_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "media", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "cases").symlink_to(outside)
    with pytest.raises(BackupError, match="outside"):
        _media_target(root, "media/cases/1/ab.png")
    assert _media_target(root, "media/other/1/ab.png") == root / "other/1/ab.png"


@pytest.mark.django_db
def test_restore_refuses_a_media_path_leading_out_before_writing_anything(
    settings: Any, tmp_path: Path
) -> None:
    """A whole archive, every sha256 right: refused before the database, keys or media."""
    escaped = tmp_path / "escaped" / "x.sh"
    members = {**MEMBERS, f"media/{escaped}": b"#!/bin/sh\necho owned\n"}
    manifest = manifest_for(members, migrations=[], counts={}, key_fingerprints=[],
                            keys_included=False)
    manifest["database"]["vendor"] = vendor()
    path = tmp_path / "evil.zip"
    path.write_bytes(archive(members, manifest).fp.getvalue())  # type: ignore[union-attr]
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    settings.DATA_DIR.mkdir()
    with pytest.raises(BackupError, match="unsafe path"):
        restore_backup(path)
    assert not escaped.exists() and not (tmp_path / "escaped").exists()
    assert list(settings.DATA_DIR.iterdir()) == []
