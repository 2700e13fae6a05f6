"""Text against the columns it is stored in, for every app's import-side (bulk) services.

Imported EHR text is never cut to fit unnoticed: the importer rejects a resource whose text
is longer than its column (``overlong_text``, with the reason), and the bulk writers check
again (``require_fitting_text``), so a value that still does not fit fails its unit loudly
instead of being stored cut. Only text Careline derives for display — a timeline title made
from a visit's type — is shortened, visibly, with an ellipsis (``shorten``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models

ELLIPSIS = "…"


class TextTooLong(ValueError):
    """A text value longer than its column (never stored cut)."""

    def __init__(self, model: type[models.Model], field: str, length: int, limit: int) -> None:
        super().__init__(f"{model.__name__}.{field} is {length} characters long, limit {limit}")
        self.field = field
        self.length = length
        self.limit = limit


@cache
def text_limits(model: type[models.Model]) -> dict[str, int]:
    """Field name → max_length of the model's character columns."""
    return {
        f.attname: f.max_length
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField) and f.max_length
    }


def overlong_text(model: type[models.Model], fields: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(field, length, limit) of each text value longer than its column."""
    found = []
    for name, limit in text_limits(model).items():
        value = fields.get(name)
        if type(value) is str and len(value) > limit:
            found.append((name, len(value), limit))
    return found


def require_fitting_text(model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as they are, or ``TextTooLong`` for the first text longer than its column."""
    for name, length, limit in overlong_text(model, fields):
        raise TextTooLong(model, name, length, limit)
    return fields


def shorten(text: str, limit: int) -> str:
    """Derived display text within ``limit`` characters, an ellipsis showing it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
