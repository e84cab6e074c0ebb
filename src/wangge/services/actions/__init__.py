"""The only place the services app writes. One module per area:

- catalogue: drafts, publishing, import / export of the catalogue
- applications: online pre-review (open, upload, submit, verdicts, decide, resubmit)
- proxy: proxy handling door to door (book, collect, submit, ready, deliver, rate)
- proxy_sync: the request as the phone holds it, and the field app's `proxy.*` envelopes
- clocks: the working-day clocks of both, swept by the worker (services.jobs)
- seeds: synonym groups and stage clocks for `wangge setup`
"""

from __future__ import annotations


def load_all() -> None:
    """Import the modules that register field-app envelope kinds."""
    from wangge.services.actions import proxy_sync  # noqa: F401
