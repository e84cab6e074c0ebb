"""Disputes' refusals. A DisputeError is a FieldworkError, so the field app's sync engine
answers it `invalid` naming the field and the API answers 422 naming the field, with no
second mapping; IllegalMove (a step the dispute's state does not allow) answers 409."""

from __future__ import annotations

from wangge.fieldwork.errors import FieldworkError


class DisputeError(FieldworkError):
    """Bad input or a rule refused: `field` names what to fix, `code` is stable."""


class IllegalMove(Exception):
    """The step does not fit the dispute's state (e.g. an agreement for a withdrawn one)."""

    def __init__(self, state: str, step: str):
        self.state, self.step = state, step
        super().__init__(f"a dispute that is {state} cannot be {step}")
