"""The supported resource types and their search parameters — one table read by the
search views (what filters how) and by the CapabilityStatement (what is stated).

A search parameter turns one value (an alternative of a comma list) and its modifier into
a ``Q`` over the type's rows; the registry ANDs repeated parameters and ORs the
alternatives, as FHIR says. Which parameters the request carried but Careline does not
know is reported back so that strict handling can refuse them and lenient handling can
leave them out of the ``self`` link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db.models import Q

from careline.interop.fhir.rest.values import BadParameter, split_or
from careline.platform.actors import Actor

# The result parameters every type understands (never a filter).
COUNT = "_count"
SUMMARY = "_summary"
FORMAT = "_format"
CURSOR = "_cursor"  # Careline's paging token in ``next`` links (opaque, signed)
RESULT_PARAMETERS = (COUNT, SUMMARY, FORMAT, CURSOR)

Criterion = Callable[[str | None, str], Q]  # (modifier, one value) → rows matching it


@dataclass(frozen=True)
class SearchParameter:
    name: str
    type: str  # FHIR SearchParamType: string, token, date …
    documentation: str
    criterion: Criterion
    modifiers: tuple[str, ...] = ()
    definition: str = ""  # the canonical SearchParameter URL


@dataclass(frozen=True)
class Served:
    """One resource as served, with the version its ETag and Last-Modified announce."""

    resource: dict[str, Any]
    version_id: str
    last_updated: datetime


@dataclass(frozen=True)
class ServedPage:
    resources: list[Served]
    has_more: bool
    total: int | None
    last_key: int | None  # the keyset position after this page (never served as such)


class Reader(Protocol):
    def __call__(self, *, actor: Actor, resource_id: str) -> Served: ...


class Searcher(Protocol):
    def __call__(
        self,
        *,
        actor: Actor,
        search: ParsedSearch,
        after_key: int | None,
        limit: int,
        count_total: bool,
    ) -> ServedPage: ...


@dataclass(frozen=True)
class ResourceDefinition:
    """A resource type served at ``/fhir/R4/<type>``: its parameters and how to read one
    and search (both check access and audit; see the type's module)."""

    type: str
    profile: str
    parameters: tuple[SearchParameter, ...]
    read: Reader
    search: Searcher
    documentation: str = ""
    interactions: tuple[str, ...] = field(default=("read", "search-type"))

    def parameter(self, name: str) -> SearchParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class ParsedSearch:
    criteria: list[Q]
    names: list[str]  # the parameters used as filters (audited: names, never values)
    accepted: list[tuple[str, str]]  # (name with modifier, raw value) kept for links
    unknown: list[str]  # parameter names that are neither a filter nor a result parameter


def parse_search(definition: ResourceDefinition, items: Sequence[tuple[str, str]]) -> ParsedSearch:
    """The filters of a request's parameters (result parameters are the view's)."""
    criteria: list[Q] = []
    names: list[str] = []
    accepted: list[tuple[str, str]] = []
    unknown: list[str] = []
    for key, raw in items:
        name, _, modifier = key.partition(":")
        if name in RESULT_PARAMETERS:
            continue
        parameter = definition.parameter(name)
        if parameter is None:
            unknown.append(key)
            continue
        if modifier and modifier not in parameter.modifiers:
            supported = ", ".join(f":{m}" for m in parameter.modifiers) or "none"
            raise BadParameter(
                key, f"'{key}': the modifier ':{modifier}' is not supported ({supported})."
            )
        alternatives = [value for value in split_or(raw) if value != ""]
        if not alternatives:
            raise BadParameter(key, f"'{key}' has no value.")
        any_of = Q(pk__in=[])
        for value in alternatives:
            any_of |= parameter.criterion(modifier or None, value)
        criteria.append(any_of)
        names.append(name)
        accepted.append((key, raw))
    return ParsedSearch(criteria, names, accepted, unknown)


_registry: dict[str, ResourceDefinition] = {}


def register(definition: ResourceDefinition) -> None:
    _registry[definition.type] = definition


def get_definition(resource_type: str) -> ResourceDefinition | None:
    return _registry.get(resource_type)


def list_definitions() -> list[ResourceDefinition]:
    return sorted(_registry.values(), key=lambda definition: definition.type)
