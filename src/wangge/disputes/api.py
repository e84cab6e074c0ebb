"""/api/v1/disputes: screenings, disputes, sessions, agreements, referrals, follow-ups
(helper "api" builds it). Thin: parse, call access / actions, answer."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["disputes"])
