"""Registry facts from imports — related people, coverage, consents, social needs — and the
timeline events of imported visits.

Facts are keyed by (patient, source system, source id). They carry no content hash, so a
fact is "unchanged" when every mapped field equals what is stored; only changed facts are
written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from careline.patients.models import (
    Consent,
    Coverage,
    PatientFact,
    RelatedPerson,
    SocialNeed,
    TimelineEvent,
)
from careline.platform.actors import Actor
from careline.platform.bulk import insert_rows
from careline.platform.rows import require_fitting_text, shorten, text_limits

FACT_MODELS: dict[str, type[PatientFact]] = {
    "RelatedPerson": RelatedPerson,
    "Coverage": Coverage,
    "Consent": Consent,
    "SocialNeed": SocialNeed,
}
# A negative screening answer only updates a need already known; it never creates one.
_CREATED_ONLY_WHEN_ACTIVE = frozenset({"SocialNeed"})

FactKey = tuple[int, str]
Merge = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class FactRow:
    patient_id: int
    source_id: str
    fields: dict[str, Any]

    @property
    def key(self) -> FactKey:
        return (self.patient_id, self.source_id)


@dataclass
class FactOutcome:
    """(patient primary key, source id) of each fact, by what happened to it."""

    created: list[FactKey] = field(default_factory=list)
    updated: list[FactKey] = field(default_factory=list)
    unchanged: list[FactKey] = field(default_factory=list)


def upsert_patient_facts(
    *,
    actor: Actor,
    kind: str,
    source_system: str,
    received_at: datetime,
    rows: Sequence[FactRow],
) -> FactOutcome:
    """Create or update facts of one kind ("RelatedPerson", "Coverage", "Consent", "SocialNeed")."""
    del actor  # the importer audits per patient
    with transaction.atomic(savepoint=False):
        return _upsert(FACT_MODELS[kind], kind, source_system, received_at, rows, None)


def merge_derived_coverages(
    *, actor: Actor, source_system: str, received_at: datetime, rows: Sequence[FactRow]
) -> FactOutcome:
    """Coverage derived from claims: the stored period widens to take in the new one.

    Claims of one payer arrive over many bundles or batches; the row keeps the earliest start
    and the latest end seen, so importing the same claims again changes nothing.
    """
    del actor
    with transaction.atomic(savepoint=False):
        return _upsert(Coverage, "Coverage", source_system, received_at, rows, _widen_period)


def record_social_needs(
    *, actor: Actor, source_system: str, received_at: datetime, rows: Sequence[FactRow]
) -> FactOutcome:
    """Social needs from screening answers: one row per (patient, category), latest answer wins.

    An older answer than the one stored changes nothing; a negative answer ends an active need
    but never creates a row.
    """
    del actor
    with transaction.atomic(savepoint=False):
        return _upsert(SocialNeed, "SocialNeed", source_system, received_at, rows, _latest_answer)


def _latest_answer(stored: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    if stored is None:
        return fields
    before, now = stored.get("identified_at"), fields.get("identified_at")
    if before is not None and (now is None or now < before):
        return {name: stored.get(name) for name in fields}
    return fields


def _widen_period(stored: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    if stored is None:
        return fields
    return {
        **fields,
        "start_date": _earliest(stored.get("start_date"), fields.get("start_date")),
        "end_date": _latest(stored.get("end_date"), fields.get("end_date")),
    }


def _earliest(*days: date | None) -> date | None:
    return min((day for day in days if day is not None), default=None)


def _latest(*days: date | None) -> date | None:
    return max((day for day in days if day is not None), default=None)


def _upsert(
    model: type[PatientFact],
    kind: str,
    source_system: str,
    received_at: datetime,
    rows: Sequence[FactRow],
    merge: Merge | None,
) -> FactOutcome:
    outcome = FactOutcome()
    names = sorted({name for row in rows for name in row.fields})
    stored = _stored(model, source_system, rows, names)
    new: dict[FactKey, dict[str, Any]] = {}
    changed: dict[FactKey, PatientFact] = {}
    for row in rows:
        current = stored.get(row.key)
        fields = require_fitting_text(model, merge(current, row.fields) if merge else row.fields)
        if current is not None and all(current.get(k) == v for k, v in fields.items()):
            outcome.unchanged.append(row.key)
            continue
        if current is None and kind in _CREATED_ONLY_WHEN_ACTIVE and not fields.get("is_active"):
            continue
        values = {
            "patient_id": row.patient_id,
            "source_id": row.source_id,
            "source_system": source_system,
            "received_at": received_at,
            **fields,
        }
        if current is None:
            outcome.created.append(row.key)
            new[row.key] = values
            stored[row.key] = {**fields, "pk": None}
            continue
        outcome.updated.append(row.key)
        if current["pk"] is None:  # a repeat of a row this call creates: the later values win
            new[row.key] = values
        else:
            changed[row.key] = instance = model(**values)
            instance.pk = current["pk"]
        stored[row.key] = {**fields, "pk": current["pk"]}
    insert_rows(model, list(new.values()))  # no model instances: the ids are not needed
    if changed:
        model._default_manager.bulk_update(
            list(changed.values()), [*names, "received_at"], batch_size=200
        )
    return outcome


def _stored(
    model: type[PatientFact], source_system: str, rows: Sequence[FactRow], names: list[str]
) -> dict[FactKey, dict[str, Any]]:
    if not rows:
        return {}
    found = model._default_manager.filter(
        source_system=source_system,
        patient_id__in={row.patient_id for row in rows},
        source_id__in={row.source_id for row in rows},
    ).values("pk", "patient_id", "source_id", *names)
    return {(row["patient_id"], row["source_id"]): row for row in found}


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """An event on a patient's timeline that an imported record stands behind."""

    patient_id: int
    source_key: str
    kind: str
    title: str
    occurred_at: datetime
    detail: str = ""


def record_source_events(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    events: Sequence[TimelineRow],
) -> None:
    """Add timeline events for imported records, or update those already there."""
    del actor
    if not events:
        return
    with transaction.atomic(savepoint=False):
        stored = TimelineEvent.objects.filter(
            source_system=source_system,
            patient_id__in={event.patient_id for event in events},
            source_key__in={event.source_key for event in events},
        ).values_list("patient_id", "source_key", "pk")
        _write_events(events, {(p, key): pk for p, key, pk in stored}, source_system, received_at)


def add_source_events(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    events: Sequence[TimelineRow],
) -> None:
    """Timeline events for records imported for the first time (one INSERT, no lookup).

    An event already there for the same record (left by a record deleted since) is kept.
    """
    del actor
    rows = [
        {
            "patient_id": event.patient_id,
            "source_system": source_system,
            "received_at": received_at,
            **require_fitting_text(TimelineEvent, _event_fields(event)),
        }
        for event in events
    ]
    insert_rows(TimelineEvent, rows, ignore_conflicts=True)


def _event_fields(event: TimelineRow) -> dict[str, Any]:
    """A timeline event's columns; its title and detail are derived display text, shortened
    visibly when long (the visit itself keeps the full text)."""
    limits = text_limits(TimelineEvent)
    return {
        "kind": event.kind,
        "title": shorten(event.title, limits["title"]),
        "detail": shorten(event.detail, limits["detail"]),
        "occurred_at": event.occurred_at,
        "source_key": event.source_key,
    }


def _write_events(
    events: Sequence[TimelineRow],
    stored: dict[tuple[int, str], int],
    source_system: str,
    received_at: datetime,
) -> None:
    rows: dict[tuple[int, str], TimelineEvent] = {}
    for event in events:
        fields = require_fitting_text(TimelineEvent, _event_fields(event))
        rows[(event.patient_id, event.source_key)] = TimelineEvent(
            pk=stored.get((event.patient_id, event.source_key)),
            patient_id=event.patient_id,
            source_system=source_system,
            received_at=received_at,
            **fields,
        )
    new = [row for row in rows.values() if row.pk is None]
    changed = [row for row in rows.values() if row.pk is not None]
    TimelineEvent.objects.bulk_create(new, batch_size=500)  # sets the new rows' pk
    TimelineEvent.objects.bulk_update(
        changed, ["kind", "title", "detail", "occurred_at", "received_at"], batch_size=200
    )


def retitle_source_events(
    *, actor: Actor, source_system: str, titles: dict[str, list[str]], detail: str | None = None
) -> None:
    """Give the events of ``source_system`` with these source keys a new title: ``titles``
    maps a title to the keys that take it (a status change of many messages is a few
    distinct titles: one UPDATE each, whatever the number of events)."""
    del actor
    for title, keys in titles.items():
        values: dict[str, Any] = {"title": shorten(title, text_limits(TimelineEvent)["title"])}
        if detail is not None:
            values["detail"] = detail
        TimelineEvent.objects.filter(source_system=source_system, source_key__in=keys).update(
            **values
        )
