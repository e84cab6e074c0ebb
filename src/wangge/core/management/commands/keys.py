"""`wangge keys rotate`: a new data key seals from now on; every sealed value is re-sealed
under it in batches, each batch under row locks in the transaction that writes it; the scan
is repeated until a pass finds no value under an old key (a writer holding the keys from
before the rotation may commit behind the first pass); then the old keys are dropped. Safe
to re-run after an interruption: old keys stay in the key file until every value has moved.
The database's key fingerprints follow: the new key's is recorded as soon as the key file
holds it, the old ones are removed just before the keys themselves.

`wangge keys status`: where the keys come from, each key's fingerprint beside the one the
database holds, which key seals how many values; exits 1 when the keys do not match."""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from wangge.core import audit, crypto

BATCH = 2000
#: passes after the first before giving up on writers that keep sealing under an old key
MAX_PASSES = 10


class Command(BaseCommand):
    help = "Manage the data keys that seal personal data."
    # `status` must report mismatched keys itself, and `rotate` checks them before it starts
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rotate", help="new key, re-seal everything, drop the old keys")
        sub.add_parser("status", help="which key seals how many values")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "status":
            self._status()
            return
        try:
            ring = crypto.keyring()
            if os.environ.get(crypto.ENV):
                raise crypto.CryptoError("keys come from WANGGE_DATA_KEYS; rotate them there")
        except crypto.CryptoError as exc:
            raise CommandError(str(exc)) from exc
        new_id = max(i for i, _ in ring.keys) + 1
        ring = crypto.Keyring(ring.hash_key, ((new_id, AESGCM.generate_key(256)), *ring.keys))
        crypto.save_keyring(ring)  # new key first: new writes use it from now on
        # recorded at once (a lost key file is found even mid-rotation); never before the
        # file holds the key, or a process starting in between would miss it
        crypto.record_fingerprints(ring)
        quiet = opts["verbosity"] == 0
        moved = _reseal_pass(ring, progress=not quiet)
        # a writer that fetched the keys before the rotation (a long bulk import) may commit
        # values under an old key behind the scan: scan again until a pass finds none, and
        # only then drop the old keys (docs/operations.md, 'The data keys')
        for _ in range(MAX_PASSES):
            if not (more := _reseal_pass(ring, progress=False)):
                break
            moved += more
            if not quiet:
                self.stdout.write(f"re-sealed {more} values written under an old key meanwhile")
        else:
            raise CommandError(
                f"values sealed under an old key kept appearing in {MAX_PASSES} passes (a bulk "
                "import still running with the keys from before the rotation?). The old keys "
                "stay in the key file; run `wangge keys rotate` again once it has finished.")
        final = crypto.Keyring(ring.hash_key, (ring.keys[0],))
        # the old fingerprints go before the old keys: the key file may hold more keys than
        # the table, never the table more than the key file
        crypto.record_fingerprints(final, prune=True)
        crypto.save_keyring(final)
        audit.record("core.keys_rotated", actor=None, object_type="data_key", object_id=new_id,
                     resealed=moved, dropped=[i for i, _ in ring.keys[1:]])
        self.stdout.write(self.style.SUCCESS(
            f"re-sealed {moved} values under key {new_id}; older keys removed"))

    def _status(self) -> None:
        source = crypto.key_source()
        ring: crypto.Keyring | None = None
        problems: list[str] = []
        if source == crypto.ENV:
            ring = crypto.Keyring.from_json(os.environ[crypto.ENV])
        elif crypto.key_path().exists():
            ring = crypto.Keyring.from_json(crypto.key_path().read_text())
        state = crypto._database_state()
        stored = state.fingerprints if state else {}
        self.stdout.write(f"keys from: {source}" + ("" if ring else "  (MISSING)"))
        if ring is not None:
            self.stdout.write(f"sealing key: {ring.active_id}; keys held: "
                              f"{', '.join(str(i) for i, _ in ring.keys)}")
        mine = crypto.fingerprints(ring) if ring else {}
        self.stdout.write("fingerprints (key file / database):")
        for kind, key_id in sorted(set(mine) | set(stored)):
            name = "hash key" if kind == "hash" else f"data key {key_id}"
            here, there = mine.get((kind, key_id), "-"), stored.get((kind, key_id), "-")
            verdict = ("ok" if here == there else "not yet recorded" if there == "-"
                       else "MISSING" if here == "-" else "MISMATCH")
            self.stdout.write(f"  {name:<12} {here:<16} / {there:<16} {verdict}")
        held = dict(ring.keys) if ring else {}
        for model, field in crypto.sealed_fields():
            counts: dict[int, int] = {}
            for (sealed,) in model.objects.exclude(**{f"{field}__isnull": True}).values_list(
                    field).iterator(chunk_size=BATCH):
                k = crypto.sealed_key_id(sealed)
                counts[k] = counts.get(k, 0) + 1
            self.stdout.write(f"  {model._meta.label}.{field}: {counts}")
            problems += [f"{model._meta.label}.{field}: {n} values sealed by data key {k}, "
                         "which the keys lack" for k, n in sorted(counts.items())
                         if k not in held]
        if ring is None:
            if stored or (state and state.sealed):
                problems.insert(0, "the key file is missing but the database holds "
                                   + ("key fingerprints" if stored else "sealed values"))
        elif state is not None:
            problems = crypto.check_keys(ring, state) + problems
        if problems:
            raise CommandError(str(crypto.KeyCheckError(list(dict.fromkeys(problems)), source)))
        self.stdout.write(self.style.SUCCESS("the keys match this database"))


def _reseal_pass(ring: crypto.Keyring, *, progress: bool) -> int:
    """Re-seal every value not sealed by the ring's first key; the number re-sealed.

    Each batch is read plainly to find the values to move, then those rows are read again
    under a row lock (`select_for_update`; SQLite's IMMEDIATE transactions lock the whole
    database) in the transaction that writes them: a concurrent change of the row waits for
    the batch, or the batch sees it, and is never overwritten with the value read before."""
    new_id = ring.active_id
    moved = 0
    for model, field in crypto.sealed_fields():
        qs = model.objects.exclude(**{f"{field}__isnull": True}).order_by("pk")
        bar = tqdm(total=qs.count(), desc=f"{model._meta.label}.{field}", disable=not progress)
        last = 0
        while True:
            rows = list(qs.filter(pk__gt=last).values_list("pk", field)[:BATCH])
            if not rows:
                break
            stale = [pk for pk, sealed in rows if crypto.sealed_key_id(sealed) != new_id]
            if stale:
                with transaction.atomic():
                    locked = (qs.filter(pk__in=stale).select_for_update()
                              .values_list("pk", field))
                    objs = []
                    for pk, sealed in locked:
                        if crypto.sealed_key_id(sealed) != new_id:
                            obj = model(pk=pk)
                            setattr(obj, field,
                                    crypto.seal(crypto.open_sealed(sealed, ring), ring))
                            objs.append(obj)
                    model.objects.bulk_update(objs, [field])
                moved += len(objs)
            last = rows[-1][0]
            bar.update(len(rows))
        bar.close()
    return moved
