"""A few rows of every sealed column, for the tests of `wangge keys rotate`.

A rotation re-seals every sealed value of the database: over the session's demo city (20,000
residents and the cases' and services' applicants) that is some 50,000 values and about 45 s
a call on a loaded CI machine, spent proving again per row what a few rows prove. The tests
rotate `slice_sealed_fields`'s columns instead: every sealed column still, each cut to its
newest rows, which `wangge keys rotate` and the start-up key check read exactly as they read
the whole column (`model.objects`, `model._meta`, `model(pk=...)`)."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core import crypto

#: rows kept per column; with `batch` below this gives several batches per column
ROWS = 25


class SealedSlice:
    """A model as `crypto.sealed_fields` gives it, its manager narrowed to some rows."""

    def __init__(self, model: Any, pks: list[int]) -> None:
        self.model = model
        self.pks = sorted(pks)
        self._meta = model._meta
        self.objects = model._default_manager.filter(pk__in=self.pks)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)


def slice_sealed_fields(monkeypatch: pytest.MonkeyPatch, rows: int = ROWS, batch: int = 10,
                        only: list[tuple[Any, str]] | None = None
                        ) -> list[tuple[SealedSlice, str]]:
    """Make `crypto.sealed_fields` (and so `keys rotate`, `keys status` and the key check)
    see the newest `rows` rows of each sealed column, re-sealed `batch` rows at a time.
    Every column that holds values keeps some; `only` narrows the columns too."""
    from wangge.core.management.commands import keys as keys_command

    sliced = []
    for model, field in only or crypto.sealed_fields():
        pks = list(model._default_manager.exclude(**{f"{field}__isnull": True})
                   .order_by("-pk").values_list("pk", flat=True)[:rows])
        sliced.append((SealedSlice(model, pks), field))
    monkeypatch.setattr(crypto, "sealed_fields", lambda: list(sliced))
    monkeypatch.setattr(keys_command, "BATCH", batch)
    return sliced
