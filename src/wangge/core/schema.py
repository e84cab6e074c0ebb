"""Input limits shared by the API schemas and the console forms, defined once per field.

A text field's limit comes from its model field's `max_length` where it has one
(`model_max(Case, "title")`); free text with no column limit gets `FREE_TEXT` characters.
`Text(n)` is the pydantic string type with that limit that also refuses a NUL byte and a
lone surrogate (PostgreSQL cannot store either; UTF-8 cannot encode the second), so both
databases give the same 422 naming the field. Integers that reach the database are
bounded (`Offset`, `Id`) so that a huge number is a 422, not an `OverflowError`.
"""

from __future__ import annotations

from typing import Annotated, Any

from django import forms
from django.db import models
from ninja import Schema
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

#: free text with no column limit (descriptions, notes, feedback, reasons, replies)
FREE_TEXT = 5000
#: short free-form keys and codes in query strings and paths
SHORT = 200
#: the largest id a 64-bit primary key holds
MAX_ID = 2**63 - 1
#: the largest offset a paginated list accepts
MAX_OFFSET = 10**9


def model_max(model: type[models.Model], field: str) -> int:
    """The column's max_length: the one definition both databases enforce."""
    limit = model._meta.get_field(field).max_length
    if limit is None:
        raise ValueError(f"{model.__name__}.{field} has no max_length")
    return int(limit)


def text_problem(value: str) -> tuple[str, str] | None:
    """(code, message) when the text cannot be stored on every database, else None."""
    if "\x00" in value:
        return "null_character", "不能包含空字符 (NUL)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid_unicode", "包含无效的 Unicode 字符（孤立代理项）"
    return None


def _storable(value: str) -> str:
    if (problem := text_problem(value)) is not None:
        raise PydanticCustomError(problem[0], problem[1])
    return value


#: a string PostgreSQL and SQLite both store (no NUL, valid Unicode), with no length limit
Storable = Annotated[str, AfterValidator(_storable)]


def Text(max_length: int = FREE_TEXT, **kwargs: Any) -> Any:
    """A storable string of at most `max_length` characters."""
    return Annotated[str, Field(max_length=max_length, **kwargs), AfterValidator(_storable)]


def ModelText(model: type[models.Model], field: str, **kwargs: Any) -> Any:
    """A storable string limited by the model field's max_length."""
    return Text(model_max(model, field), **kwargs)


#: a list offset: beyond a billion rows is a mistake, beyond 2^63 an overflow
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
#: a primary key as a path, query or body parameter
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: a short code or key in a path or query string
Code = Text(SHORT)


def form_text(model: type[models.Model] | None = None, field: str = "",
              **kwargs: Any) -> forms.CharField:
    """A console form's CharField limited like the API: the model's max_length, else
    FREE_TEXT. Django's CharField already refuses NUL bytes."""
    limit = model_max(model, field) if model is not None else FREE_TEXT
    return forms.CharField(max_length=limit, **kwargs)


class ErrorOut(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    code: str


class ValidationErrorOut(Schema):
    detail: list[FieldError]


#: the error answers every endpoint may give, for the OpenAPI
ERRORS: dict[int, Any] = {
    401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut,
    422: ValidationErrorOut,
    # the limits at the door (web/limits.py): a broken or oversized body, before the view
    400: ValidationErrorOut, 413: ValidationErrorOut,
}


def responses(ok: dict[int, Any] | Any) -> dict[int, Any]:
    """An operation's `response=`: its success shapes plus the shared error answers."""
    success = ok if isinstance(ok, dict) else {200: ok}
    return {**ERRORS, **success}
