"""Writes to the directory from EHR imports: idempotent upserts keyed by source.

A row is identified by (source system, source id); the work is ``careline.platform.bulk``'s.
The caller (the FHIR importer) records the audit event for the run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from careline.directory import geo
from careline.directory.models import Location, Organization, Practitioner, PractitionerRole
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.bulk import SourceRow, StoredRow, UpsertOutcome, upsert_sourced_rows
from careline.platform.models import AuditAction, SourcedModel
from careline.platform.permissions import Permission

__all__ = [
    "DIRECTORY_MODELS",
    "GeocodeOutcome",
    "SourceRow",
    "UpsertOutcome",
    "geocode_locations",
    "upsert_directory_rows",
]

DIRECTORY_MODELS: dict[str, type[SourcedModel]] = {
    "Organization": Organization,
    "Location": Location,
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
}


def upsert_directory_rows(
    *,
    actor: Actor,
    kind: str,
    source_system: str,
    received_at: datetime,
    rows: Sequence[SourceRow],
    stored: Mapping[str, StoredRow] | None = None,
) -> UpsertOutcome:
    """Create or update directory rows of one kind ("Organization", "Location", …).

    ``stored`` is what ``platform.bulk.find_stored_rows`` answered for (at least) these
    rows' source ids, in this transaction or just before it: they are then not read again.
    """
    del actor  # the importer audits the run; directory rows hold no patient data
    outcomes = upsert_sourced_rows(
        kinds={kind: DIRECTORY_MODELS[kind]},
        source_system=source_system,
        received_at=received_at,
        rows={kind: rows},
        want_ids=True,
        stored=None if stored is None else {kind: stored},
    )
    return outcomes.get(kind, UpsertOutcome())


@dataclass(frozen=True)
class GeocodeOutcome:
    geocoded: int  # locations given their ZIP's centroid
    without_known_zip: int  # locations left without coordinates: no ZIP, or an unknown one


def geocode_locations(
    *, actor: Actor, location_ids: Collection[int] | None = None
) -> GeocodeOutcome:
    """Give every location without coordinates its ZIP's centroid (``directory.geo``).

    Locations with coordinates are left alone; one with no ZIP or an unknown one keeps none
    (the nearest-location search lists it last, "distance unknown"). Maintaining imported
    directory data is the integration role's (``interop.import_fhir``). One transaction, one
    audit entry with the counts.
    """
    require_permission(actor, Permission.IMPORT_FHIR, resource_type="Location")
    unplaced = Location.objects.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True))
    if location_ids is not None:
        unplaced = unplaced.filter(pk__in=list(location_ids))
    with transaction.atomic():
        rows = list(unplaced.only("pk", "postal_code", "latitude", "longitude").order_by("pk"))
        placed: list[Location] = []
        for row in rows:
            area = geo.find_zip_area(row.postal_code) if row.postal_code else None
            if area is not None:
                row.latitude, row.longitude = area.latitude, area.longitude
                placed.append(row)
        Location.objects.bulk_update(placed, ["latitude", "longitude"], batch_size=500)
        outcome = GeocodeOutcome(geocoded=len(placed), without_known_zip=len(rows) - len(placed))
        audit.record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="Location",
            details={
                "geocoded_from_zip": outcome.geocoded,
                "without_known_zip": outcome.without_known_zip,
            },
        )
    return outcome
