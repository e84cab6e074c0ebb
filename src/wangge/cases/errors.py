"""The errors a case action raises; the API turns them into 422 and 409."""

from __future__ import annotations


class CaseError(Exception):
    """Bad input for a case; names the field (422)."""

    def __init__(self, field: str, message: str, code: str = "invalid"):
        self.field = field
        self.code = code
        super().__init__(message)


class IllegalTransition(Exception):
    """The action does not apply to the case in its current state (409)."""
