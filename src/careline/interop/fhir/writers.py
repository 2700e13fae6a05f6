"""Writing what belongs to a patient: registry facts, clinical facts and what they imply —
the timeline event of a visit, the social need a screening answer reports, and coverage
derived from claims.

A resource whose patient cannot be found (neither in the unit nor imported before) is
rejected with the path of its patient reference.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from careline.clinical.services import SourceRow, UpsertOutcome, upsert_facts
from careline.directory import selectors as directory_selectors
from careline.interop.fhir.context import ById, Mapped
from careline.interop.fhir.mapping import MAPPERS
from careline.interop.fhir.mapping.clinical import VisitEvent
from careline.interop.fhir.mapping.coverage import ClaimCoverage
from careline.interop.fhir.mapping.observation import SocialNeedSignal
from careline.interop.fhir.summary import Rejection
from careline.interop.fhir.unit_state import UnitState
from careline.patients.bulk import (
    FactOutcome,
    FactRow,
    PatientRef,
    TimelineRow,
    add_source_events,
    merge_derived_coverages,
    record_social_needs,
    record_source_events,
    upsert_patient_facts,
)

Ready = list[tuple[Mapped, PatientRef]]
PAYER_ORGANIZATION = "payer_organization"
UNKNOWN_PAYER = "Unknown payer"


class FactWriter:
    def __init__(self, unit: UnitState) -> None:
        self.unit = unit

    def write_registry(self, resource_type: str, items: list[Mapped]) -> None:
        """Related people, coverage or consents (one kind)."""
        ready = self._with_patients(resource_type, items)
        if ready:
            self.unit.prefetch(item for item, _ in ready)
            self._write_registry(resource_type, ready)

    def write_clinical(self, items: dict[str, list[Mapped]]) -> None:
        """Every clinical kind of the unit at once (one read for all kinds)."""
        ready = {kind: self._with_patients(kind, kind_items) for kind, kind_items in items.items()}
        unchanged = {
            kind: [item.source_id for item, _ in kind_ready if item.is_unchanged]
            for kind, kind_ready in ready.items()
        }
        ready = {
            kind: [(item, patient) for item, patient in kind_ready if not item.is_unchanged]
            for kind, kind_ready in ready.items()
        }
        ready = {kind: kind_ready for kind, kind_ready in ready.items() if kind_ready}
        self.unit.prefetch(item for kind_ready in ready.values() for item, _ in kind_ready)
        outcomes = self._upsert_clinical(ready)
        for kind, source_ids in unchanged.items():
            outcomes.setdefault(kind, UpsertOutcome()).unchanged.extend(source_ids)
        for kind, outcome in outcomes.items():
            self._after_clinical(kind, ready.get(kind, []), outcome)

    def _upsert_clinical(self, ready: dict[str, Ready]) -> dict[str, UpsertOutcome]:
        if not ready:
            return {}
        stored = self.unit.prepared.stored
        is_known = all(
            stored.covers(kind, {item.source_id for item, _ in kind_ready})
            for kind, kind_ready in ready.items()
        )
        return upsert_facts(
            actor=self.unit.run.actor,
            source_system=self.unit.source,
            received_at=self.unit.received_at,
            rows={kind: self._clinical_rows(kind_ready) for kind, kind_ready in ready.items()},
            stored=stored.rows if is_known else None,
        )

    def _with_patients(self, resource_type: str, items: list[Mapped]) -> Ready:
        ready: Ready = []
        for item in items:
            patient = self.unit.patient_for(item.mapping.patient)
            if patient is None:
                self._reject_unlinked(resource_type, item)
            else:
                ready.append((item, patient))
        return ready

    def _reject_unlinked(self, resource_type: str, item: Mapped) -> None:
        key = item.mapping.patient
        if key is None:
            reason = "has no reference to a Patient"
        elif isinstance(key, ById):
            reason = (
                f"references Patient/{key.source_id}, which is neither in this import nor known"
            )
        else:
            reason = "references a Patient by identifier that is neither in this import nor known"
        path = f"{resource_type}.{MAPPERS[resource_type].patient_element}"
        entry = item.entry
        self.unit.tally.reject(
            Rejection(self.unit.prepared.file, entry.index, entry.line, resource_type, path, reason)
        )

    # -- clinical ----------------------------------------------------------------------------

    def _clinical_rows(self, ready: Ready) -> list[SourceRow]:
        return [
            SourceRow(
                item.source_id,
                item.content_hash,
                item.raw,
                {**item.mapping.fields, **self.unit.foreign_keys(item), "patient_id": patient.pk},
                item.canonical,
            )
            for item, patient in ready
        ]

    def _after_clinical(self, resource_type: str, ready: Ready, outcome: UpsertOutcome) -> None:
        self.unit.count(resource_type, outcome)
        owners = {item.source_id: patient for item, patient in ready}
        for source_id in outcome.created:
            self.unit.touch(owners[source_id], "created")
        for source_id in outcome.updated:
            self.unit.touch(owners[source_id], "updated")
        created, updated = set(outcome.created), set(outcome.updated)
        if resource_type == "Encounter":
            self._record_visits([(i, p) for i, p in ready if i.source_id in created], new=True)
            self._record_visits([(i, p) for i, p in ready if i.source_id in updated], new=False)
        elif resource_type == "Observation":
            self._record_social_needs(
                [(i, p) for i, p in ready if i.source_id in created | updated]
            )

    def _record_visits(self, changed: Ready, *, new: bool) -> None:
        """Visits on the timeline: added for new encounters, updated for changed ones."""
        events = [
            TimelineRow(
                patient_id=patient.pk,
                source_key=f"Encounter/{item.source_id}",
                kind="encounter",
                title=item.mapping.extra.title,
                occurred_at=item.mapping.extra.occurred_at,
                detail=item.mapping.extra.detail,
            )
            for item, patient in changed
            if isinstance(item.mapping.extra, VisitEvent)
        ]
        if not events:
            return
        record = add_source_events if new else record_source_events
        record(
            actor=self.unit.run.actor,
            source_system=self.unit.source,
            received_at=self.unit.received_at,
            events=events,
        )

    def _record_social_needs(self, changed: Ready) -> None:
        rows = [
            FactRow(
                patient.pk,
                f"screening:{item.mapping.extra.category}",
                {
                    "category": item.mapping.extra.category,
                    "is_active": item.mapping.extra.is_active,
                    "note": item.mapping.extra.note,
                    "identified_at": item.mapping.fields["effective_at"],
                },
            )
            for item, patient in changed
            if isinstance(item.mapping.extra, SocialNeedSignal)
        ]
        if rows:
            record_social_needs(
                actor=self.unit.run.actor,
                source_system=self.unit.source,
                received_at=self.unit.received_at,
                rows=rows,
            )

    # -- registry ----------------------------------------------------------------------------

    def _write_registry(self, resource_type: str, ready: Ready) -> None:
        payers = self._payer_names(ready) if resource_type == "Coverage" else {}
        rows = [
            FactRow(patient.pk, item.source_id, self._registry_fields(item, payers))
            for item, patient in ready
        ]
        outcome = upsert_patient_facts(
            actor=self.unit.run.actor,
            kind=resource_type,
            source_system=self.unit.source,
            received_at=self.unit.received_at,
            rows=rows,
        )
        self._count_facts(resource_type, outcome, {p.pk: p for _, p in ready})

    def _count_facts(
        self, resource_type: str, outcome: FactOutcome, refs: dict[int, PatientRef]
    ) -> None:
        for name, keys in (("created", outcome.created), ("updated", outcome.updated)):
            self.unit.tally.count(resource_type, name, len(keys))
            for patient_pk, _ in keys:
                self.unit.touch(refs[patient_pk], name)
        self.unit.tally.count(resource_type, "unchanged", len(outcome.unchanged))

    def _payer_names(self, ready: Ready) -> dict[int, str]:
        unnamed = {
            pk
            for item, _ in ready
            if not item.mapping.fields.get("payer")
            and (pk := self.unit.pk(item, PAYER_ORGANIZATION)) is not None
        }
        return directory_selectors.organization_names(organization_ids=unnamed)

    def _registry_fields(self, item: Mapped, payers: dict[int, str]) -> dict[str, Any]:
        fields = {**item.mapping.fields, **self.unit.foreign_keys(item)}
        if "payer" in fields and not fields["payer"]:
            organization = self.unit.pk(item, PAYER_ORGANIZATION)
            fields["payer"] = payers.get(organization or 0) or UNKNOWN_PAYER
        return fields

    # -- coverage from claims ------------------------------------------------------------------

    def write_claim_coverage(self, claims: list[ClaimCoverage]) -> None:
        spans: dict[tuple[int, str], tuple[date | None, date | None]] = {}
        refs: dict[int, PatientRef] = {}
        for claim in claims:
            patient = self.unit.patient_for(claim.patient)
            if patient is None:
                continue  # the claim itself is skipped; without a patient it shows nothing
            refs[patient.pk] = patient
            start, end = spans.get((patient.pk, claim.payer), (claim.start, claim.end))
            spans[(patient.pk, claim.payer)] = (
                _earliest(start, claim.start),
                _latest(end, claim.end),
            )
        if not spans:
            return
        rows = [
            FactRow(
                patient_pk,
                f"derived:{payer}"[:200],
                {"payer": payer, "status": "active", "start_date": start, "end_date": end},
            )
            for (patient_pk, payer), (start, end) in spans.items()
        ]
        outcome = merge_derived_coverages(
            actor=self.unit.run.actor,
            source_system=self.unit.source,
            received_at=self.unit.received_at,
            rows=rows,
        )
        self._count_facts("Coverage", outcome, refs)


def _earliest(*days: date | None) -> date | None:
    return min((day for day in days if day is not None), default=None)


def _latest(*days: date | None) -> date | None:
    return max((day for day in days if day is not None), default=None)
