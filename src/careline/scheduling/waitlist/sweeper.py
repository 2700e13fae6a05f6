"""The waitlist's cadence beside ``careline worker``: every ``CARELINE_WAITLIST_SWEEP_SECONDS``
it enqueues ``sweep_waitlist_task`` (0 turns it off). Rounds are normally enqueued by the
events themselves (a slot freed, an offer declined, ``run_after`` an offer's expiry or the
end of quiet hours); the sweep is the safety net for a task lost with its queue. It only
enqueues — the task runs in the worker like any other — and the sweep is idempotent, so
several workers may each run this thread. (No periodic scheduler exists yet in the project;
this follows the audit sealer's thread-beside-the-worker pattern.)"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from careline.scheduling.waitlist.tasks import sweep_waitlist_task

logger = logging.getLogger(__name__)


def run_sweeper(*, stop: threading.Event, interval: float | None = None) -> None:
    interval = settings.CARELINE_WAITLIST_SWEEP_SECONDS if interval is None else interval
    try:
        while interval > 0 and not stop.wait(interval):
            close_old_connections()
            try:
                sweep_waitlist_task.enqueue()
            except Exception:
                logger.exception("waitlist sweeper: could not enqueue the sweep; retrying")
                connection.close()
    finally:
        connection.close()


def start_sweeper_thread() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sweeper, kwargs={"stop": stop}, name="careline-waitlist-sweeper", daemon=True
    )
    thread.start()
    return thread, stop
