"""The master patient index: which Careline patient a source system's Patient record is.

Deterministic rules, in order:

1. ``source_record`` — this (source system, source id) is already linked: that patient;
2. ``identifier`` — an identifier of the record (system + value; never the SSN) already
   belongs to a patient: link to her and remember the identifier that matched;
3. ``new_patient`` — otherwise a new patient is created from the record.

Every source record keeps its ``SourceLink`` (raw resource + content hash), so a patient
keeps a link to each record any source sent for her. Probabilistic matching comes later.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction

from careline.identity.models import MatchRule, SourceLink
from careline.patients.bulk import (
    SSN_SYSTEM,
    PatientRecord,
    PatientRef,
    create_patients,
    find_identifier_owners,
    patient_refs,
)
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.bulk import RAW_JSON, insert_rows, select_by_source
from careline.platform.models import SourcedModel

# The model of each kind of source record identity keeps, for source-keyed lookups
# (``platform.bulk.find_stored_rows``) that read it together with other apps' rows.
SOURCE_RECORD_MODELS: dict[str, type[SourcedModel]] = {"Patient": SourceLink}


class Outcome(StrEnum):
    """What happened to the source record (not to the patient)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class SourcePatient:
    """A source system's Patient record, mapped, with its raw resource and content hash."""

    record: PatientRecord
    content_hash: str
    raw: dict[str, Any]
    raw_json: str = ""  # ``raw`` already serialised (stored as is)

    @property
    def source_id(self) -> str:
        return self.record.source_id

    def match_keys(self) -> list[tuple[str, str]]:
        return [
            (identifier.system, identifier.value)
            for identifier in self.record.identifiers
            if identifier.system and identifier.value and identifier.system != SSN_SYSTEM
        ]


@dataclass(frozen=True, slots=True)
class Resolution:
    source_id: str
    patient: PatientRef
    rule: str
    outcome: Outcome
    is_new_patient: bool
    matched_identifier: str = ""


def resolve_patient(
    *, actor: Actor, source_system: str, received_at: datetime, source: SourcePatient
) -> Resolution:
    """The Careline patient of one source record (see the module rules)."""
    return resolve_patients(
        actor=actor, source_system=source_system, received_at=received_at, sources=[source]
    )[0]


def resolve_patients(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    sources: Sequence[SourcePatient],
) -> list[Resolution]:
    """Resolve a bundle's or batch's records at once: a fixed number of queries.

    Records of the batch see each other: a second record with the identifier of a first one
    links to the first one's (possibly new) patient.
    """
    with transaction.atomic(savepoint=False):
        plan = _Plan(source_system, sources)
        plan.decide()
        new_refs = create_patients(
            actor=actor,
            source_system=source_system,
            received_at=received_at,
            records=[source.record for source in plan.new_patients],
        )
        resolutions = plan.resolutions(new_refs)
        _write_links(source_system, received_at, sources, resolutions, plan.link_ids)
        return resolutions


def find_linked_patients(
    *, source_system: str, source_ids: Collection[str]
) -> dict[str, PatientRef]:
    """source id → the patient each linked source Patient record belongs to (one query)."""
    links = select_by_source(SourceLink, source_system, source_ids, ("source_id", "patient_id"))
    refs = patient_refs(pks={patient_id for _, patient_id in links})
    return {source_id: refs[patient_id] for source_id, patient_id in links}


def find_stored_hashes(*, source_system: str, source_ids: Collection[str]) -> dict[str, str]:
    """source id → content hash of each source Patient record stored (one query)."""
    links = select_by_source(SourceLink, source_system, source_ids, ("source_id", "content_hash"))
    return dict(links)


@dataclass
class _Decision:
    source: SourcePatient
    rule: str
    outcome: Outcome
    patient: PatientRef | None = None
    new_index: int | None = None  # into the patients to create
    matched_identifier: str = ""


class _Plan:
    """The decisions for a batch, made in memory after two reads."""

    def __init__(self, source_system: str, sources: Sequence[SourcePatient]) -> None:
        self.sources = sources
        links = select_by_source(
            SourceLink,
            source_system,
            {s.source_id for s in sources},
            ("source_id", "id", "content_hash", "patient_id"),
        )
        refs = patient_refs(pks={patient_id for _, _, _, patient_id in links})
        self.link_ids = {source_id: pk for source_id, pk, _, _ in links}
        self.hashes = {source_id: digest for source_id, _, digest, _ in links}
        self.linked = {source_id: refs[patient_id] for source_id, _, _, patient_id in links}
        keys = {key for s in sources if s.source_id not in self.linked for key in s.match_keys()}
        self.owners: dict[tuple[str, str], _Decision | PatientRef] = dict(
            find_identifier_owners(identifiers=keys)  # type: ignore[arg-type]
        )
        self.decisions: list[_Decision] = []
        self.new_patients: list[SourcePatient] = []

    def decide(self) -> None:
        seen: dict[str, _Decision] = {}
        for source in self.sources:
            earlier = seen.get(source.source_id)
            decision = self._again(earlier, source) if earlier else self._decide(source)
            seen[source.source_id] = decision
            self.hashes[source.source_id] = source.content_hash
            self.decisions.append(decision)
            for key in source.match_keys():
                self.owners.setdefault(key, decision.patient or decision)

    def _again(self, earlier: _Decision, source: SourcePatient) -> _Decision:
        """A record repeated in the batch: same patient, changed only if its hash differs."""
        same = self.hashes.get(source.source_id) == source.content_hash
        outcome = Outcome.UNCHANGED if same else Outcome.UPDATED
        return _Decision(source, earlier.rule, outcome, earlier.patient, earlier.new_index)

    def _decide(self, source: SourcePatient) -> _Decision:
        if source.source_id in self.linked:
            same = self.hashes[source.source_id] == source.content_hash
            outcome = Outcome.UNCHANGED if same else Outcome.UPDATED
            return _Decision(
                source, MatchRule.SOURCE_RECORD, outcome, self.linked[source.source_id]
            )
        for system, value in source.match_keys():
            owner = self.owners.get((system, value))
            if owner is not None:
                decision = _Decision(
                    source,
                    MatchRule.IDENTIFIER,
                    Outcome.CREATED,
                    matched_identifier=f"{system}|{value}",
                )
                if isinstance(owner, PatientRef):
                    decision.patient = owner
                else:
                    decision.patient, decision.new_index = owner.patient, owner.new_index
                return decision
        self.new_patients.append(source)
        return _Decision(
            source, MatchRule.NEW_PATIENT, Outcome.CREATED, new_index=len(self.new_patients) - 1
        )

    def resolutions(self, new_refs: list[PatientRef]) -> list[Resolution]:
        resolutions = []
        for decision in self.decisions:
            if decision.patient is not None:
                patient = decision.patient
            else:
                assert decision.new_index is not None  # noqa: S101 (every decision has one)
                patient = new_refs[decision.new_index]
            resolutions.append(
                Resolution(
                    source_id=decision.source.source_id,
                    patient=patient,
                    rule=decision.rule,
                    outcome=decision.outcome,
                    is_new_patient=decision.rule == MatchRule.NEW_PATIENT
                    and decision.outcome is Outcome.CREATED,
                    matched_identifier=decision.matched_identifier,
                )
            )
        return resolutions


def _write_links(
    source_system: str,
    received_at: datetime,
    sources: Sequence[SourcePatient],
    resolutions: list[Resolution],
    link_ids: dict[str, int],
) -> None:
    """One SourceLink per source record: inserted when new, raw and hash updated when changed."""
    latest = {source.source_id: source for source in sources}  # the last copy wins
    new: dict[str, dict[str, Any]] = {}
    changed: dict[str, SourceLink] = {}
    now = clock.now()
    for resolution in resolutions:
        if resolution.outcome is Outcome.UNCHANGED:
            continue
        source = latest[resolution.source_id]
        link = {
            "source_system": source_system,
            "source_id": resolution.source_id,
            "received_at": received_at,
            "content_hash": source.content_hash,
            "raw": source.raw,
            RAW_JSON: source.raw_json,
            "patient_id": resolution.patient.pk,
            "match_rule": resolution.rule,
            "matched_identifier": resolution.matched_identifier[:300],
            "linked_at": now,
        }
        pk = link_ids.get(resolution.source_id)
        if pk is None:
            new[resolution.source_id] = link
        else:
            del link[RAW_JSON]
            changed[resolution.source_id] = SourceLink(pk=pk, **link)
    insert_rows(SourceLink, list(new.values()))  # no model instances; the ids are not needed
    SourceLink.objects.bulk_update(
        list(changed.values()), ["received_at", "content_hash", "raw"], batch_size=200
    )
