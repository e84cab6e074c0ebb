"""Token format and hashing. Tokens are 256-bit random, so a plain SHA-256 digest is
enough to store them (a slow password hash would only slow down every API call)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "wg_"


def new_secret() -> tuple[str, str, str]:
    """Return (token, prefix, digest) for a fresh token."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
