"""Fieldwork's refusals: the API answers every one as 422 naming the field (`loc`)."""

from __future__ import annotations


class FieldworkError(Exception):
    """Bad input or a rule refused: `field` names what to fix, `code` is stable for clients."""

    def __init__(self, field: str, msg: str, code: str = "invalid"):
        self.field, self.msg, self.code = field, msg, code
        super().__init__(f"{field}: {msg}")


class Conflict(Exception):
    """An edit made against an outdated copy: `current` is the server's copy to show."""

    def __init__(self, msg: str, current: dict[str, object]):
        self.msg, self.current = msg, current
        super().__init__(msg)
