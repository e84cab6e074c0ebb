"""Encryption at rest and keyed hashes for personal data.

Values are sealed with AES-256-GCM (the `cryptography` package); a sealed value is
`key id (2 bytes) | nonce (12 bytes) | ciphertext+tag`, so several keys can be live while a
rotation re-encrypts. Exact-match search uses an HMAC-SHA256 "blind index" under a separate
key: the database can find a person by ID number without ever holding the number.

Keys come from WANGGE_DATA_KEYS (JSON) or `<data dir>/data_keys.json`, created on first use:
    {"hash_key": "<base64 32 bytes>", "keys": [{"id": 2, "key": "<base64 32 bytes>"}, …]}
The first key seals; every listed key opens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
_cache: tuple[Path, float, Keyring] | None = None


def key_path() -> Path:
    return Path(settings.DATA_DIR) / "data_keys.json"


def keyring() -> Keyring:
    """The current keys; the key file is re-read when it changes (after a rotation)."""
    global _cache
    if env := os.environ.get("WANGGE_DATA_KEYS"):
        return Keyring.from_json(env)
    path = key_path()
    with _lock:
        if not path.exists():
            _create(path)
        mtime = path.stat().st_mtime
        if _cache is None or _cache[:2] != (path, mtime):
            _cache = (path, mtime, Keyring.from_json(path.read_text()))
        return _cache[2]


def _create(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(Keyring.generate().to_json())


def save_keyring(ring: Keyring) -> None:
    """Replace the key file atomically (only where keys live in the data dir)."""
    global _cache
    if os.environ.get("WANGGE_DATA_KEYS"):
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
        raise CryptoError(f"no data key with id {key_id}")
    return _cipher(key).decrypt(sealed[2:14], sealed[14:], None).decode()


def sealed_key_id(sealed: bytes | memoryview) -> int:
    return int.from_bytes(bytes(sealed[:2]), "big")


def blind_index(value: str, ring: Keyring | None = None) -> str:
    """Keyed hash for exact-match search (128 bits, hex)."""
    ring = ring or keyring()
    return hmac.new(ring.hash_key, value.encode(), hashlib.sha256).hexdigest()[:32]
