"""What the database already holds of a unit's resources, read before the unit is validated.

A Patient or clinical resource whose content hash equals the stored one is unchanged: it
is neither validated nor mapped again (it was when it was stored), only counted — which is
what makes a re-import fast. A resource whose id occurs more than once in the unit is always
read in full, so the last copy wins as before.

One query reads the unit's Patient, clinical and directory rows. The clinical and directory
rows found (hash and primary key) are handed to their upserts, which then do not read them
again: the pipeline never prepares a unit while an earlier one naming the same resources is
still being written, so what was read here is still what the database holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from careline.clinical.services import FACT_MODELS
from careline.directory.services import DIRECTORY_MODELS
from careline.identity.services import SOURCE_RECORD_MODELS
from careline.interop.fhir.context import FHIR_ID, Entry, source_id_of
from careline.platform.bulk import StoredRow, find_stored_rows

TypeId = tuple[str, str]  # (resource type, source id)


@dataclass
class Stored:
    hashes: dict[TypeId, str] = field(default_factory=dict)  # of the unit's unique resources
    rows: dict[str, dict[str, StoredRow]] = field(default_factory=dict)  # clinical, directory
    looked_up: dict[str, set[str]] = field(default_factory=dict)  # kind → source ids

    def known_hash(self, resource_type: str, source_id: str) -> str | None:
        return self.hashes.get((resource_type, source_id))

    def covers(self, kind: str, source_ids: set[str]) -> bool:
        """Whether the rows of ``kind`` with these source ids were all looked up."""
        return source_ids <= self.looked_up.get(kind, set())


def find_stored(entries: list[Entry], source_system: str) -> Stored:
    """The stored rows of the unit's Patient, clinical and directory resources (one query)."""
    wanted: defaultdict[str, set[str]] = defaultdict(set)
    seen: Counter[TypeId] = Counter()
    for entry in entries:
        resource_type = entry.resource.get("resourceType")
        if not isinstance(resource_type, str) or resource_type not in _MODELS:
            continue
        source_id = source_id_of(entry.resource, entry.full_url)
        if FHIR_ID.fullmatch(source_id) is None:
            continue  # never stored under such an id; validation will say why
        seen[(resource_type, source_id)] += 1
        wanted[resource_type].add(source_id)
    stored = Stored(looked_up=dict(wanted))
    if wanted:
        found = find_stored_rows(_MODELS, source_system, wanted)
        stored.rows = {kind: rows for kind, rows in found.items() if kind != "Patient"}
        for kind, rows in found.items():
            if kind == "Patient" or kind in FACT_MODELS:  # directory rows are always mapped
                stored.hashes.update(((kind, source_id), row[0]) for source_id, row in rows.items())
    for key, count in seen.items():
        if count > 1:
            stored.hashes.pop(key, None)
    return stored


_MODELS = {**SOURCE_RECORD_MODELS, **FACT_MODELS, **DIRECTORY_MODELS}
