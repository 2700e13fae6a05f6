"""What the database already holds of a unit's resources, read before the unit is validated.

A Patient or clinical resource whose content hash equals the stored one is unchanged: it
is neither validated nor mapped again (it was when it was stored), only counted — which is
what makes a re-import fast. A resource whose id occurs more than once in the unit is always
read in full, so the last copy wins as before.

The rows found are handed to the clinical upsert, which then does not read them again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from careline.clinical.services import StoredRow, find_stored_facts, is_fact_kind
from careline.identity.services import find_stored_hashes
from careline.interop.fhir.context import FHIR_ID, Entry, source_id_of

TypeId = tuple[str, str]  # (resource type, source id)


@dataclass
class Stored:
    hashes: dict[TypeId, str] = field(default_factory=dict)  # of the unit's unique resources
    facts: dict[str, dict[str, StoredRow]] = field(default_factory=dict)
    looked_up: dict[str, set[str]] = field(default_factory=dict)  # clinical kind → source ids

    def known_hash(self, resource_type: str, source_id: str) -> str | None:
        return self.hashes.get((resource_type, source_id))

    def covers(self, kind: str, source_ids: set[str]) -> bool:
        """Whether the facts of ``kind`` with these source ids were all looked up."""
        return source_ids <= self.looked_up.get(kind, set())


def find_stored(entries: list[Entry], source_system: str) -> Stored:
    """The stored hashes of the unit's Patient and clinical resources (two queries at most)."""
    facts: defaultdict[str, set[str]] = defaultdict(set)
    patients: set[str] = set()
    seen: Counter[TypeId] = Counter()
    for entry in entries:
        resource_type = entry.resource.get("resourceType")
        if not isinstance(resource_type, str):
            continue
        is_patient = resource_type == "Patient"
        if not (is_patient or is_fact_kind(resource_type)):
            continue
        source_id = source_id_of(entry.resource, entry.full_url)
        if FHIR_ID.fullmatch(source_id) is None:
            continue  # never stored under such an id; validation will say why
        seen[(resource_type, source_id)] += 1
        (patients if is_patient else facts[resource_type]).add(source_id)
    stored = Stored(looked_up=dict(facts))
    if facts:
        stored.facts = find_stored_facts(source_system=source_system, source_ids=facts)
    for kind, rows in stored.facts.items():
        stored.hashes.update(((kind, source_id), row[0]) for source_id, row in rows.items())
    if patients:
        found = find_stored_hashes(source_system=source_system, source_ids=patients)
        stored.hashes.update(
            (("Patient", source_id), digest) for source_id, digest in found.items()
        )
    for key, count in seen.items():
        if count > 1:
            stored.hashes.pop(key, None)
    return stored
