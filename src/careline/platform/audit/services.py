"""Writing the audit trail: append an entry with the access it records; seal entries.

**Append.** ``record_event``/``record_events`` insert unsealed entries in the caller's
transaction (no savepoint, no lock): a read or write and its audit entry commit or roll back
together, and concurrent appends do not wait for each other.

**Seal.** ``seal_pending`` gives unsealed entries the next positions (``sequence``) and
their keyed links (``chain.link_hash``), in one transaction that only the sealer runs. It is
sound however appends interleave:

- It reads with the database's committed view (READ COMMITTED on PostgreSQL, SQLite's single
  writer), so it only ever sees entries whose transactions have committed; an entry still in
  flight is sealed by a later round.
- Positions are handed out in the order the sealer sees entries (by id among those it sees),
  never by id alone: an entry committed after an entry with a higher id simply gets a later
  position, and an id lost to a rolled-back transaction was never seen, so the positions
  have no gap and nothing looks deleted. No watermark on ids is kept, so a late commit
  cannot be skipped: the sealer's queue is "every unsealed entry" (a partial index).
- One sealer at a time: on PostgreSQL a transaction-level advisory lock (a second sealer
  skips its round); on both databases the unique ``sequence`` and the ``sequence IS NULL``
  condition on each seal UPDATE turn a race into a rolled-back round, never a double seal.
- A sealer killed mid-round loses its uncommitted transaction and nothing else; the next
  round starts from the last committed seal.

Checkpoints are written only after the round commits (``checkpoints.py``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction

from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.audit import chain, checkpoints
from careline.platform.audit.selectors import AUDIT_RESOURCE_TYPE, AuditFilter
from careline.platform.models import AuditAction, AuditEvent, AuditOutcome, Purpose
from careline.platform.prepared import default_database, hot_cursor

logger = logging.getLogger(__name__)

SEAL_BATCH_SIZE = 2000
_INSERT_BATCH_SIZE = 500  # rows per INSERT (SQLite allows 32,766 parameters, 19 a row)
_SEALER_LOCK_KEY = 0x4341524C  # "CARL": held by the one sealer, never by an append


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
    """Append events in order, unsealed, in one INSERT in the caller's transaction.

    No savepoint is made: a failed append fails the caller's transaction.
    """
    if not entries:
        return []
    occurred_at = clock.now()
    events = [_event(actor, entry, occurred_at) for entry in entries]
    if len(events) <= _INSERT_BATCH_SIZE:
        _insert(events)  # one statement: atomic on its own
    else:
        with transaction.atomic(savepoint=False):
            _insert(events)
    if settings.CARELINE_AUDIT_SEAL_ON_APPEND:
        _seal_in_this_transaction(events)
    return events


def _event(actor: Actor, entry: AuditEntry, occurred_at: datetime) -> AuditEvent:
    return AuditEvent(
        occurred_at=occurred_at,
        actor=actor.user,
        actor_label=actor.display,
        actor_role=actor.user.audit_role if actor.user else "",
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


# Every audited request appends, so the INSERT is written once per row count rather than
# compiled by the ORM each time (``Model.save`` cost ~0.15 ms more Python per request).
_INSERTED_FIELDS = tuple(
    field for field in AuditEvent._meta.concrete_fields if not field.primary_key
)


@functools.cache
def _insert_sql(vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _INSERTED_FIELDS)
    row = f"({', '.join(['%s'] * len(_INSERTED_FIELDS))})"
    return (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
        f"VALUES {', '.join([row] * rows)} RETURNING {quote('id')}"
    )


def _insert(events: list[AuditEvent]) -> None:
    """One INSERT of every event; each gets its id, as ``bulk_create`` would give it."""
    db = default_database()
    for start in range(0, len(events), _INSERT_BATCH_SIZE):
        batch = events[start : start + _INSERT_BATCH_SIZE]
        values = [
            field.get_db_prep_save(getattr(event, field.attname), db)
            for event in batch
            for field in _INSERTED_FIELDS
        ]
        with hot_cursor(db) as cursor:
            cursor.execute(_insert_sql(db.vendor, len(batch)), values)
            ids = [row[0] for row in cursor.fetchall()]
        for event, pk in zip(batch, ids, strict=True):
            event.pk = pk
            event._state.adding, event._state.db = False, db.alias


# A test's live server on SQLite serves its threads from one shared connection, where the
# database's own locks cannot keep two threads' sealing rounds apart.
_SEAL_ON_APPEND_LOCK = threading.Lock()


def _seal_in_this_transaction(events: list[AuditEvent]) -> None:
    """Tests only (``CARELINE_AUDIT_SEAL_ON_APPEND``): seal now, waiting for the lock."""
    sealed: dict[int, AuditEvent] = {}
    with _SEAL_ON_APPEND_LOCK, transaction.atomic(savepoint=False):
        while True:
            round_ = _seal_round(wait=True)
            sealed.update((event.pk, event) for event in round_.events)
            if len(round_.events) < SEAL_BATCH_SIZE:
                break
    for event in events:
        seal = sealed.get(event.pk)
        if seal is not None:
            for column in chain.SEAL_COLUMNS:
                setattr(event, column, getattr(seal, column))


def record_log_view(*, actor: Actor, audit_filter: AuditFilter, row_count: int) -> None:
    """Reading the audit trail is itself audited."""
    record_event(
        actor=actor.for_purpose(Purpose.COMPLIANCE),
        action=AuditAction.READ,
        resource_type=AUDIT_RESOURCE_TYPE,
        details={"filters": audit_filter.names(), "rows": row_count},
    )


def record_break_glass_queue_view(*, actor: Actor, pending: int, reviewed: int) -> None:
    """Opening the break-glass review queue is audited with how many accesses it listed."""
    record_event(
        actor=actor.for_purpose(Purpose.COMPLIANCE),
        action=AuditAction.READ,
        resource_type="BreakGlassAccess",
        details={"pending": pending, "reviewed": reviewed},
    )


# --- the sealer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SealRound:
    events: list[AuditEvent]
    last_position: int
    last_hash: str
    key_id: str


def seal_pending(*, limit: int = SEAL_BATCH_SIZE) -> SealRound:
    """Seal up to ``limit`` committed, unsealed entries in one transaction (see the module)."""
    with transaction.atomic():
        return _seal_round(wait=False, limit=limit)


def _seal_round(*, wait: bool, limit: int = SEAL_BATCH_SIZE) -> SealRound:
    key = chain.chain_keys()[0]
    if not _take_sealer_lock(wait=wait):
        return SealRound([], 0, "", key.key_id)
    last = (
        AuditEvent.objects.filter(sequence__isnull=False)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    position, previous_hash = last if last else (0, chain.GENESIS_HASH)
    position = position or 0
    pending = list(AuditEvent.objects.filter(sequence__isnull=True).order_by("id")[:limit])
    sealed_at = clock.now()
    for event in pending:
        position += 1
        event.sequence, event.previous_hash = position, previous_hash
        event.key_id, event.sealed_at = key.key_id, sealed_at
        event.hash = previous_hash = chain.link_hash(
            chain.linked_fields(event), previous_hash=previous_hash, key=key
        )
    _write_seals(pending)
    return SealRound(pending, position, previous_hash, key.key_id)


def _take_sealer_lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the IMMEDIATE transaction already holds the only write lock
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_SEALER_LOCK_KEY])
        row = cursor.fetchone()
    return wait or bool(row and row[0])


def _write_seals(events: list[AuditEvent]) -> None:
    if not events:
        return
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = (
        f"UPDATE {table} SET sequence = %s, previous_hash = %s, hash = %s, "  # noqa: S608
        "key_id = %s, sealed_at = %s WHERE id = %s AND sequence IS NULL"
    )
    as_column = connection.ops.adapt_datetimefield_value
    rows = [
        (e.sequence, e.previous_hash, e.hash, e.key_id, as_column(e.sealed_at), e.pk)
        for e in events
    ]
    with hot_cursor() as cursor:  # one prepared UPDATE for the whole batch
        cursor.executemany(sql, rows)
        # A row another sealer sealed first would not match ``sequence IS NULL``.
        updated = cursor.rowcount
    if updated not in (-1, len(rows)):
        raise DatabaseError(f"sealed {updated} of {len(rows)} entries: another sealer raced")


def seal_and_checkpoint() -> SealRound:
    """One sealing round, then a checkpoint if one is due (after the commit)."""
    round_ = seal_pending()
    if round_.events:
        checkpoints.record_if_due(
            position=round_.last_position, link=round_.last_hash, key_id=round_.key_id
        )
    return round_


def run_sealer(*, stop: threading.Event, interval: float | None = None) -> None:
    """Seal until ``stop`` is set: a full batch goes straight on, otherwise wait ``interval``.

    A failed round (a database restart, a lost connection, a key missing from the settings)
    is logged and retried after a pause; it rolled back, so nothing is sealed twice or
    skipped, and the thread never dies of it.
    """
    interval = settings.CARELINE_AUDIT_SEAL_INTERVAL_SECONDS if interval is None else interval
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                sealed = len(seal_and_checkpoint().events)
            except Exception:
                logger.exception("audit sealer: a round failed; retrying")
                connection.close()
                stop.wait(max(interval, 1.0))
                continue
            if sealed < SEAL_BATCH_SIZE:
                stop.wait(interval)
    finally:
        checkpoints.record_now_if_behind()
        connection.close()


def start_sealer_thread() -> tuple[threading.Thread, threading.Event]:
    """The sealer beside a worker (or a demo server): a daemon thread with its own connection."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sealer, kwargs={"stop": stop}, name="careline-audit-sealer", daemon=True
    )
    thread.start()
    return thread, stop


def wait_until_sealed(*, timeout: float) -> bool:
    """True once no entry is unsealed (for benchmarks and shutdown), else False at timeout."""
    deadline = time.monotonic() + timeout
    while AuditEvent.objects.filter(sequence__isnull=True).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
