"""The field app's envelope kinds (fieldwork.envelopes): screening.create,
dispute.create, dispute.session, dispute.follow_up, agreement.sign — each applies the
matching do_* with the envelope's payload and answers the record as the phone holds it."""

from __future__ import annotations
