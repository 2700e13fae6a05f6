"""What the writing stages of one unit share: the run, the unit's source and prepared
resources, the patients found so far, the counts and the patients touched (for the audit).

The directory, identity and fact writers all take this state; none of them imports another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from careline.clinical.services import UpsertOutcome
from careline.interop.fhir.context import ById, Mapped, RefKey
from careline.interop.fhir.prepare import Prepared
from careline.interop.fhir.resolver import Resolver
from careline.interop.fhir.summary import Tally
from careline.patients.bulk import PatientRef
from careline.platform import clock
from careline.platform.actors import Actor


@dataclass
class Run:
    """What every unit of an import run shares."""

    actor: Actor
    source_system: str | None  # given by the caller: overrides each bundle's meta.source
    default_source: str
    resolver: Resolver


@dataclass
class Touched:
    patient: PatientRef
    created: int = 0
    updated: int = 0


class UnitState:
    def __init__(self, run: Run, source_system: str, prepared: Prepared) -> None:
        self.run = run
        self.source = source_system
        self.prepared = prepared
        self.received_at = clock.now()
        self.tally = Tally()
        self.patients: dict[str, PatientRef] = {}  # Patient source id → patient
        self.patients_by_identifier: dict[tuple[str | None, str], PatientRef] = {}
        self.touched: dict[int, Touched] = {}  # patient pk → her counts, for the audit trail

    # -- references ------------------------------------------------------------------------

    def prefetch(self, items: Iterable[Mapped]) -> None:
        self.run.resolver.prefetch(
            self.source, [key for item in items for key in item.mapping.links.values()]
        )

    def pk(self, item: Mapped, link: str) -> int | None:
        key = item.mapping.links.get(link)
        return self.run.resolver.pk(self.source, key) if key is not None else None

    def foreign_keys(self, item: Mapped) -> dict[str, int | None]:
        return {name: self.pk(item, name) for name in item.mapping.links if name.endswith("_id")}

    def patient_for(self, key: RefKey | None) -> PatientRef | None:
        if key is None or key.resource_type != "Patient":
            return None
        if isinstance(key, ById):
            return self.patients.get(key.source_id)
        return self.patients_by_identifier.get((key.system, key.value))

    # -- counts ------------------------------------------------------------------------------

    def count(self, resource_type: str, outcome: UpsertOutcome) -> None:
        self.tally.count(resource_type, "created", len(outcome.created))
        self.tally.count(resource_type, "updated", len(outcome.updated))
        self.tally.count(resource_type, "unchanged", len(outcome.unchanged))

    def touch(self, patient: PatientRef, outcome: str, number: int = 1) -> None:
        """Count a created or updated resource of a patient, for her audit event."""
        touched = self.touched.setdefault(patient.pk, Touched(patient))
        if outcome == "created":
            touched.created += number
        else:
            touched.updated += number
