"""Validation of one resource with the ``fhir.resources`` R4B models.

A failure becomes a ``Problem``: the FHIR path of the first error (``Patient.birthDate``,
``Patient.name[0].given[0]``) and a plain reason. A resource nested deeper than
``MAX_NESTING`` objects and lists is refused before the models see it: their validators
recurse per level, and a few hundred levels of ``extension`` (a few kilobytes) exhaust
Python's stack. Values are echoed only for elements that
cannot identify a person (dates, codes, status); names, identifiers, addresses and
telecom values never appear in a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

_PHI_ELEMENTS = frozenset(
    {"name", "identifier", "telecom", "address", "text", "contact", "photo", "note", "value"}
)
_ECHO_SUFFIXES = ("Date", "DateTime", "date", "Instant", "start", "end", "status", "gender")
_ECHO_ELEMENTS = frozenset({"issued", "authoredOn", "recorded", "lastUpdated", "use", "intent"})
_PLAIN_REASONS = {
    "missing": "is required but missing",
    "extra_forbidden": "is not an element of this resource type",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "decimal_type": "must be a number",
    "string_pattern_mismatch": "has characters this element does not allow",
}


MAX_NESTING = 64  # objects and lists; real resources stay under 20 (one element level is 2)
TOO_DEEP = f"is nested more than {MAX_NESTING} levels deep (objects and lists), which is not read"


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@cache
def model_class(resource_type: str) -> Any:
    """The R4B model of a resource type, or None for a name that is not a FHIR type."""
    try:
        return get_fhir_model_class(resource_type)
    except (ValueError, KeyError, AttributeError, ImportError):
        return None


def is_fhir_type(resource_type: str) -> bool:
    return model_class(resource_type) is not None


def validate_resource(resource: dict[str, Any]) -> Problem | None:
    """None when the resource is valid R4 (read with the R4B models), else its first problem."""
    resource_type = str(resource.get("resourceType"))
    model = model_class(resource_type)
    if model is None:
        return Problem(resource_type, f"{resource_type!r} is not a FHIR resource type")
    if is_nested_deeper(resource, MAX_NESTING):
        return Problem(resource_type, TOO_DEEP)
    try:
        model.model_validate(resource)
    except ValidationError as error:
        return _problem(resource_type, error)
    except (ValueError, TypeError) as error:  # fhir_core raises these for some root checks
        return Problem(resource_type, f"is not valid: {type(error).__name__}")
    except RecursionError:  # a shape under the limit that still recursed too far
        return Problem(resource_type, TOO_DEEP)
    return None


def is_nested_deeper(value: object, limit: int) -> bool:
    """Whether JSON ``value`` has objects and lists nested more than ``limit`` deep.

    Level by level (no recursion, so the check itself cannot exhaust the stack); parsed
    JSON holds exactly ``dict`` and ``list``, which a type comparison finds fastest.
    """
    level: list[Any] = [value] if type(value) in (dict, list) else []
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        level = deeper
        depth += 1
    return False


def _problem(resource_type: str, error: ValidationError) -> Problem:
    errors = error.errors(include_url=False)
    first = errors[0]
    location = [part for part in first["loc"] if part not in ("__root__", "resource_type")]
    path = format_path(resource_type, location)
    reason = _reason(first, location)
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return Problem(path, reason)


def format_path(resource_type: str, location: Sequence[Any]) -> str:
    path = resource_type
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = str(part)[:64]  # an unknown element's name is whatever the input had
            path += f".{name}" if name.isprintable() else f".{name!r}"
    return path


def _reason(error: Any, location: Sequence[Any]) -> str:
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ").strip()
    if kind == "fhir-validation-wrong-resource-type":
        return "resourceType does not match the resource"
    reason = _PLAIN_REASONS.get(kind) or message.rstrip(".").replace("\n", " ")
    if _may_echo(location) and isinstance(error.get("input"), str | int | float | bool):
        shown = repr(error["input"])
        if len(shown) <= 42 and shown.isprintable():
            reason += f": {shown}"
    return reason


def _may_echo(location: Sequence[Any]) -> bool:
    names = [part for part in location if isinstance(part, str)]
    if not names or any(name in _PHI_ELEMENTS for name in names):
        return False
    last = names[-1]
    return last in _ECHO_ELEMENTS or last.endswith(_ECHO_SUFFIXES)
