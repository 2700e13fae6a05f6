"""The waitlist's safety net: ``enqueue_sweep`` enqueues ``sweep_waitlist_task``, every
``CARELINE_WAITLIST_SWEEP_SECONDS`` (a periodic job: ``platform.periodic``, 0 turns it off).
Rounds are normally enqueued by the events themselves (a slot freed, an offer declined,
``run_after`` an offer's expiry or the end of quiet hours); the sweep picks up a round whose
task was lost with its queue. The sweep is idempotent."""

from __future__ import annotations

from careline.scheduling.waitlist.tasks import sweep_waitlist_task


def enqueue_sweep() -> None:
    sweep_waitlist_task.enqueue()
