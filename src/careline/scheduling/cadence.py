"""The weekly access snapshot's cadence beside ``careline worker``: every
``CARELINE_ACCESS_SNAPSHOT_CHECK_SECONDS`` (0: never) it looks whether this week's
third-next-available is recorded and, if not, enqueues ``record_access_snapshots_task``. It
only enqueues — the task runs in the worker like any other — and the task is idempotent per
week, so several workers may each run this thread. (No periodic scheduler exists yet in the
project; this follows the audit sealer's thread-beside-the-worker pattern.)"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from careline.platform import clock
from careline.scheduling.metrics import is_week_recorded
from careline.scheduling.tasks import record_access_snapshots_task

logger = logging.getLogger(__name__)


def enqueue_snapshot_if_due() -> bool:
    """Enqueue this week's snapshot unless it is recorded; True when it enqueued."""
    if is_week_recorded(now=clock.now()):
        return False
    record_access_snapshots_task.enqueue()
    return True


def run_snapshot_cadence(*, stop: threading.Event, interval: float | None = None) -> None:
    interval = settings.CARELINE_ACCESS_SNAPSHOT_CHECK_SECONDS if interval is None else interval
    try:
        while interval > 0 and not stop.wait(interval):
            close_old_connections()
            try:
                enqueue_snapshot_if_due()
            except Exception:
                logger.exception("access snapshot cadence: could not enqueue; retrying")
                connection.close()
    finally:
        connection.close()


def start_snapshot_thread() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_snapshot_cadence,
        kwargs={"stop": stop},
        name="careline-access-snapshot",
        daemon=True,
    )
    thread.start()
    return thread, stop
