"""The closed loop as a table: which action moves a case from which states to which, what it
needs, and who may take it. actions.do_transition is the only code that applies it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    REPORTED = "reported"
    REGISTERED = "registered"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    SUSPENDED = "suspended"
    REPLY_DUE = "reply_due"
    CANCELLED = "cancelled"


class Actor(StrEnum):
    """Who may act, relative to the case (decided in access.py)."""

    DISPATCH = "dispatch"  # center dispatcher/admin, sub-center and workstation staff in scope
    DEPARTMENT = "department"  # staff of the department the case is assigned to
    GRID_WORKER = "grid_worker"  # the responsible grid worker of the case's grid
    REPORTER = "reporter"  # who reported it


@dataclass(frozen=True)
class Step:
    sources: frozenset[State]
    target: State | None  # None: the state actions.loop._apply names (resume, escalate)
    actors: frozenset[Actor]
    needs: tuple[str, ...] = field(default=())


def _s(*states: State) -> frozenset[State]:
    return frozenset(states)


OPEN = _s(State.REGISTERED, State.DISPATCHED, State.ACCEPTED, State.IN_PROGRESS)
D, DEP, GW, REP = Actor.DISPATCH, Actor.DEPARTMENT, Actor.GRID_WORKER, Actor.REPORTER

STEPS: dict[str, Step] = {
    "register": Step(_s(State.REPORTED), State.REGISTERED, frozenset({D})),
    "reject": Step(_s(State.REPORTED), State.REJECTED, frozenset({D}), ("reason",)),
    "dispatch": Step(_s(State.REGISTERED), State.DISPATCHED, frozenset({D})),
    "accept": Step(_s(State.DISPATCHED), State.ACCEPTED, frozenset({DEP})),
    "return": Step(_s(State.DISPATCHED), State.REGISTERED, frozenset({DEP}), ("reason",)),
    "start": Step(_s(State.ACCEPTED), State.IN_PROGRESS, frozenset({DEP})),
    "handle": Step(_s(State.IN_PROGRESS), State.HANDLED, frozenset({DEP}), ("feedback",)),
    "verify_pass": Step(_s(State.HANDLED), State.VERIFIED, frozenset({GW, D})),
    "verify_fail": Step(_s(State.HANDLED), State.IN_PROGRESS, frozenset({GW, D}), ("reason",)),
    "close": Step(_s(State.VERIFIED), State.CLOSED, frozenset({D}), ("closeout_reason",)),
    # 回访: the reporter rates it, or a dispatcher records the follow-up call
    "evaluate": Step(_s(State.CLOSED), State.EVALUATED, frozenset({REP, D}), ("satisfaction",)),
    # 不满意重办: an unsatisfied rating within the rule's days reopens the case for rework
    # by the same department (actions.rating.do_rate applies FeedbackRule; never by hand)
    "reopen": Step(_s(State.CLOSED), State.IN_PROGRESS, frozenset({REP, D}), ("reason",)),
    "suspend": Step(OPEN, State.SUSPENDED, frozenset({D}), ("reason", "planned_date")),
    "resume": Step(_s(State.SUSPENDED), None, frozenset({D})),
    # cannot be solved in time: the only way on is a written reply to the reporter (书面答复),
    # after which the case goes back to where it was and handling continues
    "reply_due": Step(OPEN, State.REPLY_DUE, frozenset({D, DEP}), ("reason",)),
    "reply": Step(_s(State.REPLY_DUE), None, frozenset({D, DEP}), ("reply",)),
    # 逐级上报: the case stays where it is in the loop, one level up the hierarchy
    "escalate": Step(_s(State.REPORTED, State.REGISTERED), None, frozenset({D}), ("reason",)),
    "cancel": Step(_s(State.REPORTED, State.SUSPENDED) | OPEN, State.CANCELLED, frozenset({D}),
                   ("reason",)),
}

#: photos: who may add them at which stage, and while the case is in which states
PHOTO_STAGES: dict[str, tuple[frozenset[Actor], frozenset[State]]] = {
    "report": (frozenset({REP, D, GW}), _s(State.REPORTED, State.REGISTERED, State.DISPATCHED)),
    "handle": (frozenset({DEP}), _s(State.ACCEPTED, State.IN_PROGRESS, State.HANDLED)),
    "verify": (frozenset({GW, D}), _s(State.HANDLED, State.VERIFIED)),
}

#: whose move it is in each state (the "mine" queue): the next step of the main loop
WAITING_ON: dict[State, Actor] = {
    State.REPORTED: D, State.REGISTERED: D, State.VERIFIED: D, State.SUSPENDED: D,
    State.DISPATCHED: DEP, State.ACCEPTED: DEP, State.IN_PROGRESS: DEP, State.REPLY_DUE: DEP,
    State.HANDLED: GW, State.CLOSED: REP,
}
FINAL = _s(State.REJECTED, State.CANCELLED, State.CLOSED, State.EVALUATED)
