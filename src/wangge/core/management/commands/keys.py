"""`wangge keys rotate`: a new data key seals from now on; every sealed value is re-sealed
under it in batches; then the old keys are dropped. Safe to re-run after an interruption:
old keys stay in the key file until every value has moved."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from wangge.core import crypto

BATCH = 2000


def sealed_fields() -> list[tuple[Any, str]]:
    """Every (model, field) holding sealed values: by convention, binary fields named *_enc."""
    return [
        (model, f.attname)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if f.attname.endswith("_enc") and f.get_internal_type() == "BinaryField"
    ]


class Command(BaseCommand):
    help = "Manage the data keys that seal personal data."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rotate", help="new key, re-seal everything, drop the old keys")
        sub.add_parser("status", help="which key seals how many values")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "status":
            self._status()
            return
        ring = crypto.keyring()
        new_id = max(i for i, _ in ring.keys) + 1
        ring = crypto.Keyring(ring.hash_key, ((new_id, AESGCM.generate_key(256)), *ring.keys))
        crypto.save_keyring(ring)  # new key first: new writes use it from now on
        moved = 0
        for model, field in sealed_fields():
            qs = model.objects.exclude(**{f"{field}__isnull": True}).order_by("pk")
            bar = tqdm(total=qs.count(), desc=f"{model._meta.label}.{field}",
                       disable=opts["verbosity"] == 0)
            last = 0
            while True:
                rows = list(qs.filter(pk__gt=last).values_list("pk", field)[:BATCH])
                if not rows:
                    break
                objs = []
                for pk, sealed in rows:
                    if crypto.sealed_key_id(sealed) != new_id:
                        obj = model(pk=pk)
                        setattr(obj, field, crypto.seal(crypto.open_sealed(sealed, ring), ring))
                        objs.append(obj)
                with transaction.atomic():
                    model.objects.bulk_update(objs, [field])
                moved += len(objs)
                last = rows[-1][0]
                bar.update(len(rows))
            bar.close()
        crypto.save_keyring(crypto.Keyring(ring.hash_key, (ring.keys[0],)))
        self.stdout.write(self.style.SUCCESS(
            f"re-sealed {moved} values under key {new_id}; older keys removed"))

    def _status(self) -> None:
        ring = crypto.keyring()
        self.stdout.write(f"sealing key: {ring.active_id}; keys held: "
                          f"{', '.join(str(i) for i, _ in ring.keys)}")
        for model, field in sealed_fields():
            counts: dict[int, int] = {}
            for (sealed,) in model.objects.exclude(**{f"{field}__isnull": True}).values_list(
                    field).iterator(chunk_size=BATCH):
                k = crypto.sealed_key_id(sealed)
                counts[k] = counts.get(k, 0) + 1
            self.stdout.write(f"  {model._meta.label}.{field}: {counts}")
