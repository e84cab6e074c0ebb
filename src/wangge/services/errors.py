"""The services app's refusals: the API answers ServiceError as 422 naming the field (`loc`)
and IllegalStep as 409 (an application or proxy request is not in a state that allows it)."""

from __future__ import annotations


class ServiceError(Exception):
    """Bad input or a rule refused: `field` names what to fix, `code` is stable for clients."""

    def __init__(self, field: str, msg: str, code: str = "invalid"):
        self.field, self.msg, self.code = field, msg, code
        super().__init__(f"{field}: {msg}")


class IllegalStep(Exception):
    """A step the record's state or the user's role does not allow: the message says which
    state it is in and what may happen next."""
