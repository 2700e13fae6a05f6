"""Sensitive identifiers (the SSN by default): never kept in clear in a stored raw resource.

The registry keeps a patient's SSN encrypted; the raw resource kept for provenance must not
hold it in clear beside it. Which identifiers are sensitive is a setting: identifier systems
(``CARELINE_SENSITIVE_IDENTIFIER_SYSTEMS``, the US SSN system by default) and HL7 v2-0203
identifier types (``CARELINE_SENSITIVE_IDENTIFIER_TYPES``, ``SS`` by default). They are
removed wherever an ``identifier`` element holds them — the resource's own, a contained
resource's, a logical reference's.

The content hash that makes re-imports idempotent is taken of what arrived, so a changed SSN
is still a change; for a resource that held a sensitive identifier it is a keyed HMAC (the
key is ``SECRET_KEY``): a plain hash of a resource whose other values are stored beside it
would let anyone who reads the database try every SSN against it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils.crypto import salted_hmac

from careline.interop.fhir.context import canonical_json
from careline.interop.fhir.values import JSON, coding_in, text
from careline.patients.bulk import SSN_SYSTEM

V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
SSN_TYPE = "SS"
HASH_SALT = "careline.interop.content-hash"


@dataclass(frozen=True)
class SensitiveRule:
    systems: frozenset[str]
    type_codes: frozenset[str]
    # texts one of which canonical JSON holding a sensitive identifier must contain
    markers: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        systems = tuple(f'"system":"{system}"' for system in sorted(self.systems))
        codes = tuple(f'"code":"{code}"' for code in sorted(self.type_codes))
        object.__setattr__(self, "markers", systems + codes)


@cache
def _rule(systems: tuple[str, ...], type_codes: tuple[str, ...]) -> SensitiveRule:
    return SensitiveRule(frozenset(systems), frozenset(type_codes))


def sensitive_rule() -> SensitiveRule:
    return _rule(
        tuple(settings.CARELINE_SENSITIVE_IDENTIFIER_SYSTEMS),
        tuple(settings.CARELINE_SENSITIVE_IDENTIFIER_TYPES),
    )


def identifier_type_code(identifier: JSON) -> str:
    """The identifier's HL7 v2-0203 type code ("" when it has none)."""
    return text(coding_in(identifier.get("type"), V2_IDENTIFIER_TYPE).get("code"))


def is_sensitive(identifier: JSON, rule: SensitiveRule | None = None) -> bool:
    rule = rule or sensitive_rule()
    return (
        text(identifier.get("system")) in rule.systems
        or identifier_type_code(identifier) in rule.type_codes
    )


def may_hold_sensitive(canonical: str, rule: SensitiveRule | None = None) -> bool:
    """A fast pre-check on the canonical JSON: False means there is nothing to remove."""
    return any(marker in canonical for marker in (rule or sensitive_rule()).markers)


def without_sensitive(resource: JSON, rule: SensitiveRule | None = None) -> tuple[JSON, int]:
    """A copy of the resource without its sensitive identifiers, and how many were removed.

    Unchanged parts are shared with the original, not copied.
    """
    stripped, removed = _strip(resource, rule or sensitive_rule())
    return stripped, removed


def _strip(value: Any, rule: SensitiveRule) -> tuple[Any, int]:
    if isinstance(value, list):
        items = [_strip(item, rule) for item in value]
        removed = sum(count for _, count in items)
        return ([item for item, _ in items] if removed else value), removed
    if not isinstance(value, dict):
        return value, 0
    removed = 0
    result: dict[str, Any] = {}
    for key, child in value.items():
        if key == "identifier":
            child, count = _strip_identifiers(child, rule)
            removed += count
            if child is None:
                continue
        else:
            child, count = _strip(child, rule)
            removed += count
        result[key] = child
    return (result if removed else value), removed


def _strip_identifiers(element: Any, rule: SensitiveRule) -> tuple[Any, int]:
    """An ``identifier`` element (a list, or one Identifier in a Reference) without the
    sensitive ones; None when nothing is left of it."""
    if isinstance(element, dict):
        if is_sensitive(element, rule):
            return None, 1
        return _strip(element, rule)
    if not isinstance(element, list):
        return element, 0
    kept: list[Any] = []
    removed = 0
    for item in element:
        if isinstance(item, dict) and is_sensitive(item, rule):
            removed += 1
            continue
        item, count = _strip(item, rule)
        removed += count
        kept.append(item)
    if not removed:
        return element, 0
    return (kept or None), removed


def content_hash(canonical: str, *, is_keyed: bool) -> str:
    """SHA-256 of the canonical JSON, or its keyed HMAC-SHA-256 when ``is_keyed``."""
    if is_keyed:
        return salted_hmac(HASH_SALT, canonical, algorithm="sha256").hexdigest()
    return hashlib.sha256(canonical.encode()).hexdigest()


def strip_stored_rows(model: type[models.Model], *, batch_size: int = 500) -> int:
    """Remove sensitive identifiers from the ``raw`` of every stored row of ``model`` (for
    rows stored before they were removed on import); answers how many rows changed.

    A changed row's content hash becomes the keyed one of what it held, as an import of the
    same resource computes it: an unchanged resource stays unchanged on its next import.
    """
    rule = sensitive_rule()
    changed: dict[Any, tuple[JSON, str]] = {}
    total = 0
    rows = model._default_manager.order_by("pk").values_list("pk", "raw")
    for pk, raw in rows.iterator(chunk_size=batch_size):
        canonical = canonical_json(raw) if isinstance(raw, dict) else ""
        if not may_hold_sensitive(canonical, rule):
            continue
        stripped, removed = without_sensitive(raw, rule)
        if removed:
            changed[pk] = (stripped, content_hash(canonical, is_keyed=True))
        if len(changed) >= batch_size:
            total += _save(model, changed)
    return total + _save(model, changed)


def _save(model: type[models.Model], rows: dict[Any, tuple[JSON, str]]) -> int:
    with transaction.atomic():
        for pk, (raw, digest) in rows.items():
            model._default_manager.filter(pk=pk).update(raw=raw, content_hash=digest)
    count = len(rows)
    rows.clear()
    return count


def remove_stored_identifiers(identifiers: type[models.Model], patients: type[models.Model]) -> int:
    """Delete the sensitive identifiers an earlier importer kept in clear on the registry
    (an SSN typed ``SS`` under another system); an SSN moves to the patient's encrypted
    ``ssn`` when she has none. Answers how many identifier rows were removed."""
    rule = sensitive_rule()
    wanted = models.Q(system__in=rule.systems) | models.Q(type_code__in=rule.type_codes)
    rows = list(
        identifiers._default_manager.filter(wanted).values_list(
            "pk", "patient_id", "system", "value", "type_code"
        )
    )
    ssns: dict[Any, str] = {}
    for _, patient_id, system, value, type_code in rows:
        if system == SSN_SYSTEM or type_code == SSN_TYPE:
            ssns.setdefault(patient_id, value)
    with transaction.atomic():
        having = patients._default_manager.filter(pk__in=ssns).values_list("pk", "ssn")
        for pk, ssn in list(having):
            if not ssn:  # an update encrypts it as a save would
                patients._default_manager.filter(pk=pk).update(ssn=ssns[pk])
        identifiers._default_manager.filter(pk__in=[row[0] for row in rows]).delete()
    return len(rows)
