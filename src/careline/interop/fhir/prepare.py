"""The first, database-free pass over a unit: classify, validate, hash and map each resource.

Unsupported types are counted as skipped; invalid resources are rejected with the FHIR path
of the problem; everything else becomes a ``Mapped`` record for the writer. A resource the
database already holds with the same content hash (``stored``, read by the caller) is hashed
only: not validated or mapped again, it reaches the writer marked unchanged. Claims and
explanations of benefit are skipped too, but the coverage they show is kept.
"""

from __future__ import annotations

import logging
import traceback
from collections import defaultdict
from dataclasses import dataclass, field

from careline.interop.fhir.context import (
    Entry,
    Mapped,
    Mapping,
    UnitContext,
    Unmappable,
    canonical_json,
    source_id_of,
)
from careline.interop.fhir.fits import text_problem
from careline.interop.fhir.inputs import Unit, is_resource_type_name
from careline.interop.fhir.mapping import COVERAGE_SOURCES, MAPPERS
from careline.interop.fhir.mapping.coverage import ClaimCoverage, claim_coverage
from careline.interop.fhir.plain import strip_disguises
from careline.interop.fhir.sensitive import content_hash, may_hold_sensitive, without_sensitive
from careline.interop.fhir.stored import Stored
from careline.interop.fhir.summary import CleanedValue, Rejection, Tally
from careline.interop.fhir.validation import Problem, validate_resource
from careline.interop.fhir.values import JSON

logger = logging.getLogger(__name__)
NUL = "\\u0000"  # how JSON writes the character PostgreSQL refuses in text and jsonb


@dataclass
class Prepared:
    file: str | None
    by_type: defaultdict[str, list[Mapped]] = field(default_factory=lambda: defaultdict(list))
    claims: list[ClaimCoverage] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    stored: Stored = field(default_factory=Stored)

    def rejection(
        self, entry: Entry, resource_type: str | None, path: str | None, reason: str
    ) -> Rejection:
        return Rejection(self.file, entry.index, entry.line, resource_type, path, reason)

    @property
    def has_work(self) -> bool:
        return bool(self.by_type or self.claims)


def prepare(unit: Unit, stored: Stored | None = None) -> Prepared:
    """The unit's resources, validated and mapped — except those ``stored`` as they are."""
    prepared = Prepared(unit.file, stored=stored or Stored())
    context = UnitContext.of(unit.entries)
    for entry in unit.entries:
        _prepare_entry(prepared, context, entry)
    return prepared


def _prepare_entry(prepared: Prepared, context: UnitContext, entry: Entry) -> None:
    resource = entry.resource
    resource_type = resource.get("resourceType")
    if not is_resource_type_name(resource_type):
        reason = "resourceType is missing or is not a resource type name"
        prepared.tally.reject(prepared.rejection(entry, None, "resourceType", reason))
        return
    assert isinstance(resource_type, str)  # noqa: S101 (checked above, for mypy)
    if resource_type in COVERAGE_SOURCES:
        prepared.tally.count(resource_type, "skipped")
        _keep_claim(prepared, context, entry)
        return
    if resource_type not in MAPPERS:
        prepared.tally.count(resource_type, "skipped")
        return
    mapped = _map(prepared, context, entry, resource_type)
    if mapped is not None:
        prepared.by_type[resource_type].append(mapped)


def _map(
    prepared: Prepared, context: UnitContext, entry: Entry, resource_type: str
) -> Mapped | None:
    """Stages of one resource: unchanged? → validate → map → clean → fits? → stored form."""
    kept: Kept | None = None
    source_id = source_id_of(entry.resource, entry.full_url)
    known = prepared.stored.known_hash(resource_type, source_id)
    if known is not None:
        kept = Kept.of(entry.resource)
        if kept.digest == known:
            return _unchanged(context, entry, resource_type, source_id, kept.digest)
    problem = validate_resource(entry.resource)
    if problem is None and not source_id:
        reason = "has no id, so it cannot be imported idempotently"
        problem = Problem(f"{resource_type}.id", reason)
    outcome = problem or _mapping(prepared, context, entry, resource_type)
    if isinstance(outcome, Problem):
        prepared.tally.reject(
            prepared.rejection(entry, resource_type, outcome.path, outcome.reason)
        )
        return None
    mapping = outcome
    kept = kept or Kept.of(entry.resource)
    if NUL in kept.canonical:
        reason = "contains a NUL character (\\u0000), which cannot be stored"
        prepared.tally.reject(prepared.rejection(entry, resource_type, resource_type, reason))
        return None
    return Mapped(
        entry, resource_type, source_id, kept.digest, mapping, kept.canonical, raw=kept.raw
    )


def _mapping(
    prepared: Prepared, context: UnitContext, entry: Entry, resource_type: str
) -> Mapping | Problem:
    """The resource mapped, its names and contacts cleaned, its text checked against the
    columns; or why it cannot be imported."""
    try:
        mapping = MAPPERS[resource_type].function(entry.resource, context)
    except Unmappable as refusal:
        return Problem(refusal.path, refusal.reason)
    except Exception as error:  # a mapper bug must not stop the import of everything else
        _log_failure("mapping", resource_type, error)
        return Problem(resource_type, f"could not be mapped ({type(error).__name__})")
    for path, removed in strip_disguises(resource_type, mapping).items():
        prepared.tally.cleaned_values.append(
            CleanedValue(
                prepared.file, entry.index, entry.line, resource_type, path, tuple(removed)
            )
        )
    return text_problem(resource_type, mapping) or mapping


@dataclass(frozen=True, slots=True)
class Kept:
    """What is stored of a resource: its raw form without sensitive identifiers, that form's
    canonical JSON, and the content hash of what arrived (keyed when something was removed).
    """

    raw: JSON
    canonical: str
    digest: str

    @classmethod
    def of(cls, resource: JSON) -> Kept:
        canonical = canonical_json(resource)
        if may_hold_sensitive(canonical):
            stripped, removed = without_sensitive(resource)
            if removed:
                keyed = content_hash(canonical, is_keyed=True)
                return cls(stripped, canonical_json(stripped), keyed)
        return cls(resource, canonical, content_hash(canonical, is_keyed=False))


def _unchanged(
    context: UnitContext, entry: Entry, resource_type: str, source_id: str, digest: str
) -> Mapped:
    """A resource stored as it is: only its patient is needed (to check she is still known)."""
    element = MAPPERS[resource_type].patient_element
    patient = context.key(entry.resource.get(element), expected="Patient") if element else None
    return Mapped(
        entry, resource_type, source_id, digest, Mapping({}, patient=patient), is_unchanged=True
    )


def _keep_claim(prepared: Prepared, context: UnitContext, entry: Entry) -> None:
    try:
        coverage = claim_coverage(entry.resource, context)
    except Exception as error:  # coverage from claims is a bonus: never fail the unit
        _log_failure("coverage", str(entry.resource.get("resourceType")), error)
        return
    if coverage is not None:
        prepared.claims.append(coverage)


def _log_failure(stage: str, resource_type: str, error: Exception) -> None:
    """Where it failed, without the message (it may quote patient data)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error(
        "FHIR %s of a %s failed: %s\n%s", stage, resource_type, type(error).__name__, frames
    )
