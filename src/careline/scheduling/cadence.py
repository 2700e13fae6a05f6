"""The weekly access snapshot's cadence: every ``CARELINE_ACCESS_SNAPSHOT_CHECK_SECONDS`` (a
periodic job: ``platform.periodic``, 0 turns it off) ``enqueue_snapshot_if_due`` looks whether
this week's third-next-available is recorded and, if not, enqueues
``record_access_snapshots_task``. Checking often rather than firing once a week means a week
is still recorded when the workers were down at the start of it; the task is idempotent per
week."""

from __future__ import annotations

from careline.platform import clock
from careline.scheduling.metrics import is_week_recorded
from careline.scheduling.tasks import record_access_snapshots_task


def enqueue_snapshot_if_due() -> bool:
    """Enqueue this week's snapshot unless it is recorded; True when it enqueued."""
    if is_week_recorded(now=clock.now()):
        return False
    record_access_snapshots_task.enqueue()
    return True
