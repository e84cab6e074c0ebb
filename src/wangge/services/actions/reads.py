"""Reads of an applicant's documents are recorded: the photos of an ID card or a household
register, and the signatures, are the most personal data the service hall holds (DESIGN:
every read of unmasked personal data is logged). Who read which file of which record, when."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from wangge.core import audit


def do_log_file_read(user: AbstractBaseUser | AnonymousUser | None, *, object_type: str,
                     object_id: int, what: str) -> None:
    """`object_type` "services.application" / "services.proxy"; `what` the file (a material
    key and round, "signature", "delivery-photo" …)."""
    audit.record("services.file_read", actor=user, object_type=object_type,
                 object_id=object_id, file=what)
