"""The audit trail: append a hash-chained event; verify the chain; export it.

An event is written inside the caller's transaction, so a write and its audit record commit
or roll back together. Appends are serialised (an advisory lock on PostgreSQL, SQLite's
single writer) so ``sequence`` has no gaps and each ``previous_hash`` is the last ``hash``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=actor.user,
        actor_label=actor.display,
        actor_role=actor.user.role if actor.user else "",
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        purpose=actor.purpose,
        channel=actor.channel,
        remote_addr=actor.remote_addr,
        user_agent=actor.user_agent,
        outcome=outcome,
        is_break_glass=is_break_glass,
        details=details or {},
    )
    with transaction.atomic():
        # Only the link to the previous entry is made under the lock.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        event.sequence, event.previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.hash = _digest(event.chained_fields())
        event.save(force_insert=True)
    return event


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
