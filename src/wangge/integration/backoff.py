"""When to try a failed delivery again: exponential backoff with jitter, capped.

After the n-th failed attempt the next one waits base * 2**(n-1) seconds, capped at the
maximum, then scaled by a random factor in [0.5, 1]: targets that fail together (a receiver
that was down) are not all retried in the same second, and a retry never comes sooner than
half the nominal delay.
"""

from __future__ import annotations

import random

from django.conf import settings

JITTER_LOW = 0.5


def nominal_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones, without jitter."""
    base = settings.WANGGE_OUTBOX_BACKOFF_BASE_S
    cap = settings.WANGGE_OUTBOX_BACKOFF_MAX_S
    # min() before the power would overflow: 2**1000 is fine for ints, not for floats
    return min(cap, base * 2 ** min(max(attempts - 1, 0), 60))


def delay(attempts: int, *, retry_after: float | None = None,
          rng: random.Random | None = None) -> float:
    """Jittered delay; a target's Retry-After is honoured up to the cap."""
    seconds = nominal_delay(attempts) * (rng or random).uniform(JITTER_LOW, 1.0)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, settings.WANGGE_OUTBOX_BACKOFF_MAX_S))
    return seconds
