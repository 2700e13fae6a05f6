"""Waitlist background work (django-tasks, run by ``careline worker``). Ids only in the
arguments, never PHI; each task loads its rows and calls one engine function, and is
idempotent: a round that finds offers still out, a deferral not yet due or a slot no longer
open does nothing.

- ``offer_freed_slot_task(freed_slot_id)``: one offer round of a freed slot — expire offers
  past their time, then hold and offer the slot to the next eligible patients (or defer past
  quiet hours, or close it). Enqueued when a slot frees, when the last pending offer is
  declined, at each offer's expiry (``run_after``) and when quiet hours end.
- ``sweep_waitlist_task()``: the safety net — every open slot whose round is due.
- ``find_new_availability_task(practitioner_id)``: after a template change, free slots of
  the practitioner that waitlisted patients could take become freed slots.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django_tasks import task


def enqueue_offer_round(freed_slot_id: uuid.UUID, *, run_after: datetime | None = None) -> None:
    """Enqueue a round in the caller's transaction (the database backend commits it with it)."""
    if run_after is None:
        offer_freed_slot_task.enqueue(str(freed_slot_id))
    else:
        offer_freed_slot_task.using(run_after=run_after).enqueue(str(freed_slot_id))


@task()
def offer_freed_slot_task(freed_slot_id: str) -> str:
    from careline.scheduling.waitlist import engine  # the engine books: loaded at run time

    return engine.run_offer_round(freed_slot_id=uuid.UUID(freed_slot_id))


@task()
def sweep_waitlist_task() -> int:
    from careline.scheduling.waitlist import engine

    return engine.sweep()


@task()
def find_new_availability_task(practitioner_id: str) -> int:
    from careline.scheduling.waitlist import engine

    return engine.find_new_availability(practitioner_id=uuid.UUID(practitioner_id))
