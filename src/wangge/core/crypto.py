"""Encryption at rest and keyed hashes for personal data.

Values are sealed with AES-256-GCM (the `cryptography` package); a sealed value is
`key id (2 bytes) | nonce (12 bytes) | ciphertext+tag`, so several keys can be live while a
rotation re-encrypts. Exact-match search uses an HMAC-SHA256 "blind index" under a separate
key: the database can find a person by ID number without ever holding the number.

Keys come from WANGGE_DATA_KEYS (JSON) or `<data dir>/data_keys.json`:
    {"hash_key": "<base64 32 bytes>", "keys": [{"id": 2, "key": "<base64 32 bytes>"}, …]}
The first key seals; every listed key opens.

Each key's fingerprint (an HMAC of a fixed label, never the key) is stored in the database
(core.DataKeyFingerprint). The key file is created on first use only for a database with
neither fingerprints nor sealed values; a key file that is missing or does not match the
database is a KeyCheckError naming the file to restore, never a new key over sealed data.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class CryptoError(Exception):
    pass


@dataclass(frozen=True)
class Keyring:
    hash_key: bytes
    keys: tuple[tuple[int, bytes], ...]  # (id, key), sealing key first

    @property
    def active_id(self) -> int:
        return self.keys[0][0]

    def to_json(self) -> str:
        return json.dumps({
            "hash_key": base64.b64encode(self.hash_key).decode(),
            "keys": [{"id": i, "key": base64.b64encode(k).decode()} for i, k in self.keys],
        }, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        data = json.loads(text)
        keys = tuple((int(k["id"]), base64.b64decode(k["key"])) for k in data["keys"])
        if not keys or any(len(k) != 32 for _, k in keys):
            raise CryptoError("data keys must be 32-byte AES keys")
        return cls(hash_key=base64.b64decode(data["hash_key"]), keys=keys)

    @classmethod
    def generate(cls) -> Keyring:
        return cls(hash_key=secrets.token_bytes(32), keys=((1, AESGCM.generate_key(256)),))


_lock = threading.Lock()
#: the verified keys of this process: (source, version, keys); re-read when the source changes
_cache: tuple[str, object, Keyring] | None = None

#: label whose HMAC under a key is that key's fingerprint (never the key itself)
FINGERPRINT_LABEL = b"wangge data key fingerprint v1"
ENV = "WANGGE_DATA_KEYS"


class KeyCheckError(CryptoError):
    """The keys at hand do not belong to this database: missing, different or incomplete.
    `source` names what to restore: the key file's path or WANGGE_DATA_KEYS."""

    def __init__(self, problems: list[str], source: str):
        self.problems = problems
        self.source = source
        super().__init__(
            f"the data keys in {source} do not match this database: " + "; ".join(problems)
            + f". Restore {source} from the backup made with this database "
            "(docs/operations.md, 'The start-up key check'); no new key was made.")


def fingerprint(key: bytes) -> str:
    """64 bits of HMAC-SHA256(key, fixed label), hex: identifies a key without revealing it."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def fingerprints(ring: Keyring) -> dict[tuple[str, int], str]:
    """{(kind, key id): fingerprint} of every key of the ring; the hash key has id 0."""
    out = {("hash", 0): fingerprint(ring.hash_key)}
    out.update({("data", i): fingerprint(k) for i, k in ring.keys})
    return out


def key_path() -> Path:
    return Path(settings.DATA_DIR) / "data_keys.json"


def key_source() -> str:
    """Where the keys come from, as an operator would restore it."""
    return ENV if os.environ.get(ENV) else str(key_path())


def keyring() -> Keyring:
    """The current keys, checked against the fingerprints in the database once per process
    (and again whenever the key file changes, as after a rotation).

    A key file is created only for a database that holds neither fingerprints nor sealed
    values; otherwise a missing or different key is a KeyCheckError naming what to restore."""
    global _cache
    if env := os.environ.get(ENV):
        version: object = hashlib.sha256(env.encode()).hexdigest()
        if _cache is not None and _cache[:2] == (ENV, version):
            return _cache[2]
        with _lock:
            ring = Keyring.from_json(env)
            if _verify(ring, ENV):
                _cache = (ENV, version, ring)
            return ring
    path = key_path()
    with _lock:
        if not path.exists():
            state = _database_state()
            if state is not None and (state.fingerprints or state.sealed):
                what = "key fingerprints" if state.fingerprints else "sealed values"
                raise KeyCheckError([f"the key file is missing but the database holds {what}"],
                                    str(path))
            _create(path)
        version = path.stat().st_mtime_ns
        if _cache is not None and _cache[:2] == (str(path), version):
            return _cache[2]
        ring = Keyring.from_json(path.read_text())
        if _verify(ring, str(path)):
            _cache = (str(path), version, ring)
        return ring


def _create(path: Path) -> None:
    """Write a new key file unless one exists; atomic, so a concurrent reader never sees a
    half-written file and two processes starting together end up with the same keys."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(Keyring.generate().to_json())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # fails if another process was first: theirs stands
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class DatabaseState:
    #: {(kind, key id): fingerprint} stored in the database
    fingerprints: dict[tuple[str, int], str]
    #: one recent sealed value per sealed column: {"app.Model.field": value}
    sealed: dict[str, bytes]
    #: False before the fingerprint table is migrated (an upgrade): nothing can be recorded
    recordable: bool = True
    #: without fingerprints (keys to adopt): the newest (sealed value, its blind index) of
    #: each hash probe, {"app.Model.hash_field": (sealed, hash)}
    hashed: dict[str, tuple[bytes, str]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class HashProbe:
    """A column of blind indexes beside the sealed column whose plaintext they index:
    `hashed` = blind_index(open_sealed(`sealed`)). Adopting keys for a database without
    fingerprints checks the hash key on the newest row, as the data keys on sealed values."""

    model: str  # "app_label.ModelName"
    sealed: str
    hashed: str


#: the hash probes; each app adds its own with `register_hash_probe` in its `ready()` (core
#: imports no app: models are named by label and looked up when the keys are checked)
_hash_probes: list[HashProbe] = []


def register_hash_probe(model: str, sealed: str, hashed: str) -> None:
    probe = HashProbe(model, sealed, hashed)
    if probe not in _hash_probes:
        _hash_probes.append(probe)


def sealed_fields() -> list[tuple[Any, str]]:
    """Every (model, field) holding sealed values: by convention, binary fields named *_enc."""
    from django.apps import apps

    return [
        (model, f.attname)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if f.attname.endswith("_enc") and f.get_internal_type() == "BinaryField"
    ]


def _database_state() -> DatabaseState | None:
    """What the database says about keys; None only for a database with neither the
    fingerprint table nor any sealed value (not migrated yet). A database from before
    fingerprints that holds sealed values (an upgrade not migrated yet) is a state without
    fingerprints: its values are checked, and no key file is ever made for it."""
    from django.db import connection

    from wangge.core.models import DataKeyFingerprint

    tables = set(connection.introspection.table_names())
    recordable = DataKeyFingerprint._meta.db_table in tables
    stored = ({(kind, key_id): fp for kind, key_id, fp in
               DataKeyFingerprint.objects.values_list("kind", "key_id", "fingerprint")}
              if recordable else {})
    sealed: dict[str, bytes] = {}
    columns: dict[str, set[str]] = {}
    for model, field in sealed_fields():
        table = model._meta.db_table
        if table not in tables:
            continue
        if table not in columns:  # a column a later migration adds is not there yet
            with connection.cursor() as cursor:
                columns[table] = {c.name for c in
                                  connection.introspection.get_table_description(cursor, table)}
        if model._meta.get_field(field).column not in columns[table]:
            continue
        # the newest value of each column: cheap (primary key index) and sealed by the key
        # that seals now, or by one still held during a rotation
        value = (model.objects.exclude(**{f"{field}__isnull": True}).order_by("-pk")
                 .values_list(field, flat=True).first())
        if value is not None:
            sealed[f"{model._meta.label}.{field}"] = bytes(value)
    if not recordable and not sealed:
        return None
    hashed = {} if stored else _hash_samples(tables)
    return DatabaseState(stored, sealed, recordable, hashed)


def _hash_samples(tables: set[str]) -> dict[str, tuple[bytes, str]]:
    """The newest (sealed value, blind index) of each hash probe whose columns exist."""
    from django.apps import apps
    from django.db import connection

    out: dict[str, tuple[bytes, str]] = {}
    for probe in _hash_probes:
        try:
            model = apps.get_model(probe.model)
        except LookupError:
            continue
        if model._meta.db_table not in tables:
            continue
        with connection.cursor() as cursor:
            present = {c.name for c in connection.introspection.get_table_description(
                cursor, model._meta.db_table)}
        if not {model._meta.get_field(f).column for f in (probe.sealed, probe.hashed)} <= present:
            continue
        row = (model.objects.exclude(**{f"{probe.sealed}__isnull": True})
               .exclude(**{probe.hashed: ""}).order_by("-pk")
               .values_list(probe.sealed, probe.hashed).first())
        if row is not None:
            out[f"{model._meta.label}.{probe.hashed}"] = (bytes(row[0]), row[1])
    return out


def check_keys(ring: Keyring, state: DatabaseState) -> list[str]:
    """Every way the ring disagrees with the database (empty: they belong together)."""
    mine = fingerprints(ring)
    problems = []
    for (kind, key_id), stored in sorted(state.fingerprints.items()):
        name = "the hash key" if kind == "hash" else f"data key {key_id}"
        if (kind, key_id) not in mine:
            problems.append(f"{name} (fingerprint {stored}) is missing")
        elif mine[(kind, key_id)] != stored:
            problems.append(f"{name} has fingerprint {mine[(kind, key_id)]}, "
                            f"the database expects {stored}")
    held = dict(ring.keys)
    for column, value in sorted(state.sealed.items()):
        key_id = sealed_key_id(value)
        if key_id not in held:
            problems.append(f"{column} holds values sealed by data key {key_id}, "
                            "which the keys lack")
            continue
        try:
            _cipher(held[key_id]).decrypt(value[2:14], value[14:], None)
        except InvalidTag:
            problems.append(f"data key {key_id} does not open the values in {column}")
    for column, (value, stored_hash) in sorted(state.hashed.items()):
        key = held.get(sealed_key_id(value))
        if key is None:
            continue  # said above
        try:
            plain = _cipher(key).decrypt(value[2:14], value[14:], None).decode()
        except (InvalidTag, UnicodeDecodeError):
            continue
        if not hmac.compare_digest(blind_index(plain, ring), stored_hash):
            problems.append(f"the hash key does not make the search hashes in {column} "
                            "(exact ID number and phone search would find nothing)")
    return list(dict.fromkeys(problems))


def _verify(ring: Keyring, source: str) -> bool:
    """Check the ring against the database and record the fingerprints it lacks.
    False when there is nothing to check against yet (the table is not migrated)."""
    state = _database_state()
    if state is None:
        return False
    if problems := check_keys(ring, state):
        raise KeyCheckError(problems, source)
    if not state.recordable:
        return False  # checked against the sealed values; again once migrated
    if not state.fingerprints:
        # a new database, or one from before fingerprints whose sealed values these keys
        # open: adopt them. Otherwise only `keys rotate` records: a key the file holds
        # beyond the stored ones (mid-rotation) is not written back over a pruned table.
        record_fingerprints(ring, known=state.fingerprints)
    return True


def record_fingerprints(ring: Keyring, *, prune: bool = False,
                        known: dict[tuple[str, int], str] | None = None) -> None:
    """Store the fingerprints of the ring's keys not stored yet; `prune` removes those of
    keys the ring no longer holds (after a rotation has moved every value off them)."""
    from wangge.core.models import DataKeyFingerprint

    mine = fingerprints(ring)
    if known is None:
        known = {(k, i): fp for k, i, fp in
                 DataKeyFingerprint.objects.values_list("kind", "key_id", "fingerprint")}
    new = [DataKeyFingerprint(kind=kind, key_id=key_id, fingerprint=fp)
           for (kind, key_id), fp in mine.items() if (kind, key_id) not in known]
    if new:
        DataKeyFingerprint.objects.bulk_create(new, ignore_conflicts=True)
    if prune:
        for kind, key_id in set(known) - set(mine):
            DataKeyFingerprint.objects.filter(kind=kind, key_id=key_id).delete()


def stored_fingerprints() -> dict[tuple[str, int], str]:
    """The fingerprints the database holds (for `wangge keys status` and backups)."""
    state = _database_state()
    return state.fingerprints if state else {}


def save_keyring(ring: Keyring) -> None:
    """Replace the key file atomically (only where keys live in the data dir)."""
    global _cache
    if os.environ.get(ENV):
        raise CryptoError("keys come from WANGGE_DATA_KEYS; rotate them there")
    path = key_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(ring.to_json())
    os.replace(tmp, path)
    with _lock:
        _cache = None


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)


def seal(plaintext: str, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring()
    key_id, key = ring.keys[0]
    nonce = secrets.token_bytes(12)
    return key_id.to_bytes(2, "big") + nonce + _cipher(key).encrypt(nonce, plaintext.encode(), None)


def open_sealed(sealed: bytes | memoryview, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    sealed = bytes(sealed)
    key_id = int.from_bytes(sealed[:2], "big")
    key = dict(ring.keys).get(key_id)
    if key is None:
        raise CryptoError(f"no data key with id {key_id} in {key_source()}")
    try:
        return _cipher(key).decrypt(sealed[2:14], sealed[14:], None).decode()
    except InvalidTag:
        raise CryptoError(f"data key {key_id} in {key_source()} does not open this value: "
                          "the keys do not belong to this database") from None


def sealed_key_id(sealed: bytes | memoryview) -> int:
    return int.from_bytes(bytes(sealed[:2]), "big")


def blind_index(value: str, ring: Keyring | None = None) -> str:
    """Keyed hash for exact-match search (128 bits, hex)."""
    ring = ring or keyring()
    return hmac.new(ring.hash_key, value.encode(), hashlib.sha256).hexdigest()[:32]
