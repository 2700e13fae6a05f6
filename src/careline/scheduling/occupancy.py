"""Taking time: occupancy rows, the per-session lock, expired holds, free rooms and devices.

Used by the booking services inside their transaction. The guarantee is layered:

1. **The session lock.** ``lock_sessions`` takes a PostgreSQL transaction-level advisory lock
   per (practitioner, local day), in sorted order (no deadlock between a series and a
   reschedule). Counts that no constraint can express — new patients per session, seats of a
   group session, overbooks per session — are read and acted on under it. On SQLite every
   write transaction is IMMEDIATE (one writer at a time, ``config.database``), which
   serialises the same work.
2. **The overlap query** (``find_overlap``) refuses a taken time with a clear answer.
3. **The exclusion constraint** (PostgreSQL, migration 0002) refuses any overlap the query
   could not see — another practitioner's booking of the same room, device or patient in a
   concurrent transaction. ``is_overlap_violation`` recognises its error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection
from django.db.models import Q, QuerySet

from careline.scheduling.models import Hold, Occupancy, Resource

# No appointment or hold (with its buffers) spans more than this: overlap queries look back
# only this far on the (resource_key, occupied_from) index.
MAX_SPAN = timedelta(days=1)
_LOCK_NAMESPACE = 0x53434844  # "SCHD"
_EXCLUSION_VIOLATION = "23P01"


def practitioner_key(practitioner_id: int) -> str:
    return f"practitioner:{practitioner_id}"


def resource_key(resource_id: int) -> str:
    return f"resource:{resource_id}"


def patient_key(patient_id: int) -> str:
    return f"patient:{patient_id}"


def own_slot_key(kind: str, public_id: uuid.UUID) -> str:
    return f"{kind}:{public_id}"


def group_slot_key(visit_type_id: int, practitioner_id: int, starts_at: datetime) -> str:
    """The slot key the seats of one group session share."""
    return f"group:{visit_type_id}:{practitioner_id}:{starts_at.isoformat()}"


def lock_sessions(sessions: Iterable[tuple[int, date]]) -> None:
    """Serialise work on these (practitioner, local day) sessions until the transaction ends."""
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE write transaction already runs alone
    keys = sorted(
        {(practitioner * 1_000_003 + day.toordinal()) % 2**31 for practitioner, day in sessions}
    )
    if not keys:
        return
    # One statement, the locks taken in key order (the order every caller takes them in, so
    # two transactions never wait on each other crosswise).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM unnest(%s::integer[]) AS key ORDER BY key",
            [_LOCK_NAMESPACE, keys],
        )


def clear_expired_holds(*, now: datetime, start: datetime, end: datetime) -> None:
    """Delete holds near [start, end) that have expired (their occupancy goes with them)."""
    Hold.objects.filter(
        expires_at__lte=now, starts_at__lt=end + MAX_SPAN, ends_at__gt=start - MAX_SPAN
    ).delete()


def live(rows: QuerySet[Occupancy], now: datetime) -> QuerySet[Occupancy]:
    """Rows that block: appointments' and unexpired holds'."""
    return rows.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def overlapping(
    keys: Sequence[str], start: datetime, end: datetime, now: datetime
) -> QuerySet[Occupancy]:
    rows = Occupancy.objects.filter(
        resource_key__any_of=list(keys),
        occupied_from__lt=end,
        occupied_from__gt=start - MAX_SPAN,
        occupied_to__gt=start,
    )
    return live(rows, now)


def find_overlap(
    keys: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    shared_slot_key: str | None = None,
) -> str | None:
    """The first of ``keys`` taken in [start, end) by a non-overbook row (rows sharing
    ``shared_slot_key`` — the same group session — do not count), or None."""
    rows = overlapping(keys, start, end, now).filter(is_overbook=False)
    if shared_slot_key is not None:
        rows = rows.exclude(slot_key=shared_slot_key)
    return rows.values_list("resource_key", flat=True).first()


def count_group_seats(practitioner_id: int, slot_key: str, now: datetime) -> int:
    rows = Occupancy.objects.filter(
        resource_key=practitioner_key(practitioner_id), slot_key=slot_key
    )
    return live(rows, now).count()


def pick_resources(
    *,
    location_id: int,
    kinds: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    shared_slot_key: str | None = None,
) -> tuple[dict[str, int], list[str]]:
    """A free resource of each kind at the location: (kind → resource pk, kinds missing)."""
    if not kinds:
        return {}, []
    resources = list(
        Resource.objects.filter(location_id=location_id, kind__in=list(kinds), is_active=True)
        .order_by("name", "pk")
        .values_list("pk", "kind")
    )
    taken_rows = overlapping([resource_key(pk) for pk, _ in resources], start, end, now).filter(
        is_overbook=False
    )
    if shared_slot_key is not None:
        taken_rows = taken_rows.exclude(slot_key=shared_slot_key)
    taken = set(taken_rows.values_list("resource_key", flat=True))
    chosen: dict[str, int] = {}
    for pk, kind in resources:
        if kind not in chosen and resource_key(pk) not in taken:
            chosen[kind] = pk
    return chosen, [kind for kind in kinds if kind not in chosen]


def any_resources(*, location_id: int, kinds: Sequence[str]) -> dict[str, int]:
    """The first active resource of each kind at the location, taken or not (an overbook)."""
    chosen: dict[str, int] = {}
    rows = Resource.objects.filter(location_id=location_id, kind__in=list(kinds), is_active=True)
    for pk, kind in rows.order_by("name", "pk").values_list("pk", "kind"):
        chosen.setdefault(kind, pk)
    return chosen


def is_overlap_violation(error: IntegrityError) -> bool:
    """Whether a database error is the exclusion constraint refusing an overlap."""
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == _EXCLUSION_VIOLATION or (
        "occupancy_no_overlap" in str(error)
    )
