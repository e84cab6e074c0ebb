"""The only place the disputes app writes. One module per area:

- seeds: the 13 kinds, the default screening rule and the stage clocks (`wangge setup`)
- screening: a grid's periodic return (items become disputes; nil returns), high-risk alerts
- records: the dispute record, its parties (sealed like the register), links, sensitivity
- mediation: accept, assign, escalate level by level, sessions, withdraw
- outcome: the agreement and its signatures, referral, follow-up
- clocks: the stage clocks (StageClock), started and stopped by the steps above and swept
  by the worker (disputes.jobs)
- sync: the field app's envelope kinds (`screening.create`, `dispute.create`,
  `dispute.session`, `dispute.follow_up`, `agreement.sign`)

Every `do_*` runs in one transaction, appends a disputes.Event (timeline) and an audit
entry, and writes an outbox row carrying the facts a receiver needs.
"""

from __future__ import annotations


def load_all() -> None:
    """Import the modules that register field-app envelope kinds, and name the parties'
    keyed hashes to the key checks (core.crypto: a hash key adopted for a database without
    fingerprints is checked on the newest row's sealed value and its hash)."""
    from wangge.core.crypto import register_hash_probe
    from wangge.disputes.actions import sync  # noqa: F401

    register_hash_probe("disputes.Party", "phone_enc", "phone_hash")
