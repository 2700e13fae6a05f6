"""Reads of the directory for imports: finding rows by source id, NPI or identifier.

Each function is one query whatever the number of keys asked for.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Min

from careline.directory.models import Location, Organization, Practitioner, PractitionerRole
from careline.platform.bulk import select_by_source
from careline.platform.models import SourcedModel

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"

_MODELS: dict[str, type[SourcedModel]] = {
    "Organization": Organization,
    "Location": Location,
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
}
_WITH_NPI: dict[str, type[Organization] | type[Practitioner]] = {
    "Organization": Organization,
    "Practitioner": Practitioner,
}


def is_directory_type(resource_type: str) -> bool:
    return resource_type in _MODELS


def find_ids_by_source(
    *, kind: str, source_system: str, source_ids: Collection[str]
) -> dict[str, int]:
    """source id → primary key of the rows of ``kind`` that exist."""
    rows = select_by_source(_MODELS[kind], source_system, source_ids, ("source_id", "id"))
    return dict(rows)


def find_ids_by_npi(*, kind: str, source_system: str, npis: Collection[str]) -> dict[str, int]:
    """NPI → primary key, preferring a row from ``source_system`` over one from elsewhere."""
    model = _WITH_NPI.get(kind)
    if model is None or not npis:
        return {}
    found: dict[str, int] = {}
    rows = model._default_manager.filter(npi__in=list(npis)).values_list(
        "npi", "pk", "source_system"
    )
    for npi, pk, _ in sorted(rows, key=lambda row: (row[2] != source_system, row[1])):
        found.setdefault(npi, pk)
    return found


def identifier_index(*, kind: str, source_system: str) -> dict[tuple[str | None, str], int]:
    """(identifier system, value) → primary key for every row of ``kind`` from a source.

    Read from the stored resources; used once per import run when a conditional reference
    (``Location?identifier=…``) names a row imported by an earlier run.
    """
    index: dict[tuple[str | None, str], int] = {}
    rows = (
        _MODELS[kind]
        ._default_manager.filter(source_system=source_system)
        .values_list("pk", "raw__identifier")
    )
    for pk, identifiers in rows:
        for identifier in identifiers if isinstance(identifiers, list) else []:
            if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                index.setdefault((identifier.get("system"), identifier["value"]), pk)
    return index


def first_location_ids(*, organization_ids: Collection[int]) -> dict[int, int]:
    """Organization primary key → the primary key of its first (oldest) active location."""
    if not organization_ids:
        return {}
    rows = (
        Location.objects.filter(organization_id__in=list(organization_ids), is_active=True)
        .values("organization_id")
        .annotate(first=Min("pk"))
        .order_by()
    )
    return {row["organization_id"]: row["first"] for row in rows}


def organization_names(*, organization_ids: Collection[int]) -> dict[int, str]:
    if not organization_ids:
        return {}
    rows = Organization.objects.filter(pk__in=list(organization_ids)).values_list("pk", "name")
    return dict(rows)
