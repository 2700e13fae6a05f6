"""Generic helpers for writing rows in bulk, shared by every app's import-side services."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models


@cache
def _char_limits(model: type[models.Model]) -> dict[str, int]:
    return {
        f.attname: f.max_length
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField) and f.max_length
    }


def fit_fields(model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """The fields with every text cut to its column's length (PostgreSQL refuses longer)."""
    limits = _char_limits(model)
    return {
        name: value[: limits[name]] if isinstance(value, str) and name in limits else value
        for name, value in fields.items()
    }
