"""The audit trail: append a hash-chained event; verify the chain; export it.

An event is written inside the caller's transaction, so a write and its audit record commit
or roll back together. Appends are serialised (an advisory lock on PostgreSQL, SQLite's
single writer) so ``sequence`` has no gaps and each ``previous_hash`` is the last ``hash``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent, AuditOutcome

GENESIS_HASH = "0" * 64
_AUDIT_LOCK_KEY = 0x4341524C  # "CARL": the advisory lock that serialises appends


def _digest(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event to append with ``record_events``. ``details`` hold no PHI."""

    action: str
    resource_type: str
    resource_id: str = ""
    patient_id: uuid.UUID | None = None
    outcome: str = AuditOutcome.SUCCESS
    is_break_glass: bool = False
    details: dict[str, Any] | None = None


def record_event(
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str = "",
    patient_id: uuid.UUID | None = None,
    outcome: str = AuditOutcome.SUCCESS,
    is_break_glass: bool = False,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. ``details`` must hold no PHI: field names, counts, ids only."""
    entry = AuditEntry(
        action, resource_type, resource_id, patient_id, outcome, is_break_glass, details
    )
    return record_events(actor=actor, entries=[entry])[0]


def record_events(*, actor: Actor, entries: Sequence[AuditEntry]) -> list[AuditEvent]:
    """Append events in order, chained as ``record_event`` would one by one.

    The lock is taken and the last entry read once, and every event goes in one INSERT. In
    the caller's transaction no savepoint is made: a failed append fails the transaction.
    """
    if not entries:
        return []
    occurred_at = clock.now()
    events = [_event(actor, entry, occurred_at) for entry in entries]
    with transaction.atomic(savepoint=False):
        # Only the link to the previous entry is made under the lock.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, previous_hash = last if last else (0, GENESIS_HASH)
        for event in events:
            sequence += 1
            event.sequence, event.previous_hash = sequence, previous_hash
            event.hash = previous_hash = _digest(event.chained_fields())
        AuditEvent.objects.bulk_create(events)
    return events


def _event(actor: Actor, entry: AuditEntry, occurred_at: datetime) -> AuditEvent:
    return AuditEvent(
        occurred_at=occurred_at,
        actor=actor.user,
        actor_label=actor.display,
        actor_role=actor.user.role if actor.user else "",
        action=entry.action,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        patient_id=entry.patient_id,
        purpose=actor.purpose,
        channel=actor.channel,
        remote_addr=actor.remote_addr,
        user_agent=actor.user_agent,
        outcome=entry.outcome,
        is_break_glass=entry.is_break_glass,
        details=entry.details or {},
    )


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    reason: str


def verify_chain(*, batch_size: int = 5000) -> ChainProblem | None:
    """Walk the chain in order; return the first altered or missing entry, or None."""
    expected_sequence, previous_hash = 1, GENESIS_HASH
    for event in _events_in_order(batch_size):
        if event.sequence != expected_sequence:
            return ChainProblem(expected_sequence, "entry is missing")
        if event.previous_hash != previous_hash:
            return ChainProblem(event.sequence, "previous_hash does not match the entry before")
        if _digest(event.chained_fields()) != event.hash:
            return ChainProblem(event.sequence, "entry was altered (hash mismatch)")
        expected_sequence, previous_hash = event.sequence + 1, event.hash
    return None


def _events_in_order(batch_size: int) -> Iterator[AuditEvent]:
    last_sequence = 0
    while True:
        batch = list(
            AuditEvent.objects.filter(sequence__gt=last_sequence).order_by("sequence")[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last_sequence = batch[-1].sequence
