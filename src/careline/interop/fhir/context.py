"""What a mapper knows about the unit it reads: the bundle's fullUrls and its resources.

References are turned into keys — ``ById(type, source id)`` or ``ByIdentifier(type,
system, value)`` — that the resolver later turns into database rows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from careline.interop.fhir.references import ParsedReference, ReferenceKind, parse_reference
from careline.interop.fhir.values import JSON, as_dict, dicts, text

_UUID = "urn:uuid:"
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


@dataclass(frozen=True, slots=True)
class ById:
    resource_type: str
    source_id: str


@dataclass(frozen=True, slots=True)
class ByIdentifier:
    resource_type: str
    system: str | None
    value: str


RefKey = ById | ByIdentifier


@dataclass(slots=True)
class Entry:
    """One resource of a unit and where it was read (bundle entry index or ndjson line)."""

    resource: JSON
    index: int | None = None
    line: int | None = None
    full_url: str | None = None


def canonical_json(resource: JSON) -> str:
    """The canonical JSON text of a resource: sorted keys, compact."""
    return json.dumps(resource, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def source_id_of(resource: JSON, full_url: str | None) -> str:
    """The resource id; for a bundle entry without one, the uuid of its ``urn:uuid`` fullUrl."""
    resource_id = text(resource.get("id"))
    if resource_id:
        return resource_id
    if full_url and full_url.lower().startswith(_UUID):
        return full_url[len(_UUID) :]
    return ""


@dataclass
class UnitContext:
    """The resources of one unit, for resolving references between them."""

    by_full_url: dict[str, JSON] = field(default_factory=dict)
    by_type_id: dict[tuple[str, str], JSON] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: list[Entry]) -> UnitContext:
        context = cls()
        for entry in entries:
            resource_type = entry.resource.get("resourceType")
            if not isinstance(resource_type, str):
                continue
            if entry.full_url:
                context.by_full_url[entry.full_url] = entry.resource
            source_id = source_id_of(entry.resource, entry.full_url)
            if source_id:
                context.by_type_id[(resource_type, source_id)] = entry.resource
        return context

    def key(self, element: object, *, expected: str | None = None) -> RefKey | None:
        """The key of the resource a Reference element points to (None if it cannot be named)."""
        element = as_dict(element)
        reference = element.get("reference")
        if reference is None:
            key = self._logical_key(element, expected)
        else:
            parsed = parse_reference(reference)
            key = self._key_of(parsed, expected) if parsed is not None else None
        if key is None or (expected is not None and key.resource_type != expected):
            return None
        return key if _is_sound(key) else None

    def links(self, **targets: tuple[object, str]) -> dict[str, RefKey]:
        """Foreign-key field → key, for each (Reference element, expected type) that names one."""
        found: dict[str, RefKey] = {}
        for field_name, (element, resource_type) in targets.items():
            key = self.key(element, expected=resource_type)
            if key is not None:
                found[field_name] = key
        return found

    def lookup(self, element: object, *, container: JSON) -> JSON | None:
        """The resource a reference points to when it is in this unit or contained."""
        parsed = parse_reference(as_dict(element).get("reference"))
        if parsed is None:
            return None
        if parsed.kind is ReferenceKind.CONTAINED:
            return next(
                (r for r in dicts(container.get("contained")) if r.get("id") == parsed.id), None
            )
        if (
            parsed.kind in (ReferenceKind.URN, ReferenceKind.ABSOLUTE)
            and parsed.text in self.by_full_url
        ):
            return self.by_full_url[parsed.text]
        if parsed.resource_type and parsed.id:
            return self.by_type_id.get((parsed.resource_type, parsed.id))
        return None

    def _key_of(self, parsed: ParsedReference, expected: str | None) -> RefKey | None:
        if parsed.kind is ReferenceKind.CONDITIONAL and parsed.identifier_value:
            return ByIdentifier(
                parsed.resource_type or "", parsed.identifier_system, parsed.identifier_value
            )
        target = self.by_full_url.get(parsed.text)
        if target is not None:
            return _key_of_resource(target, parsed.text)
        if parsed.kind in (ReferenceKind.LOCAL, ReferenceKind.ABSOLUTE) and parsed.id:
            return ById(parsed.resource_type or "", parsed.id)
        if parsed.kind is ReferenceKind.URN and expected and parsed.text.lower().startswith(_UUID):
            # A fullUrl from another bundle: exporters (Synthea among them) use the id as uuid.
            return ById(expected, parsed.text[len(_UUID) :])
        return None

    @staticmethod
    def _logical_key(element: JSON, expected: str | None) -> RefKey | None:
        identifier = as_dict(element.get("identifier"))
        value = text(identifier.get("value"))
        resource_type = text(element.get("type")) or expected
        if not value or not resource_type:
            return None
        return ByIdentifier(resource_type, text(identifier.get("system")) or None, value)


def _is_sound(key: RefKey) -> bool:
    """A key that can be looked up: a FHIR id, or a printable identifier of sane length."""
    if isinstance(key, ById):
        return FHIR_ID.fullmatch(key.source_id) is not None
    system_ok = key.system is None or (len(key.system) <= 200 and key.system.isprintable())
    return system_ok and len(key.value) <= 200 and key.value.isprintable()


def _key_of_resource(resource: JSON, full_url: str) -> RefKey | None:
    resource_type = resource.get("resourceType")
    source_id = source_id_of(resource, full_url)
    if not isinstance(resource_type, str) or not source_id:
        return None
    return ById(resource_type, source_id)


class Unmappable(Exception):
    """Raised by a mapper for a valid resource Careline cannot keep: the rejection's FHIR
    path and reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason


@dataclass(slots=True)
class Mapping:
    """What a mapper makes of one resource; FK fields wait in ``links`` until resolved."""

    fields: dict[str, Any]
    links: dict[str, RefKey] = field(default_factory=dict)
    patient: RefKey | None = None
    extra: Any = None


@dataclass(slots=True)
class Mapped:
    """A validated, mapped resource of a unit, ready to be written."""

    entry: Entry
    resource_type: str
    source_id: str
    content_hash: str
    mapping: Mapping
    canonical: str = ""  # the JSON text of ``raw`` (stored as is where possible)
    is_unchanged: bool = False  # stored with this hash: neither validated nor mapped again
    raw: JSON = field(default_factory=dict)  # what is stored: no sensitive identifiers
