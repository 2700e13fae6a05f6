"""Recovering what killed dispatchers left, and the dispatcher loop beside ``careline worker``.

``reap_expired_claims``: a SENDING row whose claim is older than the lease
(``CARELINE_MESSAGING_LEASE_SECONDS``) belonged to a worker that died mid-send: it becomes
IN_DOUBT. ``reconcile_in_doubt`` then asks the adapter whether the provider has it
(``find_sent`` by the client reference): if so it is recorded SENT and never sent again;
if not — or if the adapter cannot tell (SMTP, ``reconciles = False``) — it is queued again
and resent with the same reference (for email: the same Message-ID).

The loop (``run_dispatcher``) is a thread beside the task worker, like the audit sealer and
the waitlist sweeper: sending must go on every second whatever else the queue holds. Several
workers may each run one (claims skip each other's locked rows on PostgreSQL).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from careline.messaging.channels.registry import adapter_for
from careline.messaging.dispatch import (
    Outcome,
    dispatch_once,
    outgoing,
    record_outcomes,
    worker_name,
)
from careline.messaging.models import Message, Status
from careline.messaging.rows import update_messages
from careline.platform import clock

logger = logging.getLogger(__name__)
RECONCILE_MARGIN = timedelta(hours=1)


def reap_expired_claims(*, now: datetime | None = None, lease: float | None = None) -> int:
    """SENDING rows past their lease → IN_DOUBT; the count."""
    now = now or clock.now()
    lease = settings.CARELINE_MESSAGING_LEASE_SECONDS if lease is None else lease
    return Message.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - timedelta(seconds=lease)
    ).update(status=Status.IN_DOUBT)


def reconcile_in_doubt(*, now: datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """Settle IN_DOUBT rows: (found at the provider → SENT, queued again to resend)."""
    now = now or clock.now()
    found: list[Outcome] = []
    requeued: list[Message] = []
    with transaction.atomic():
        rows = Message.objects.filter(status=Status.IN_DOUBT).select_related("patient")
        if connection.vendor == "postgresql":
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        for message in rows[:limit]:
            adapter = adapter_for(message.channel)
            since = (message.claimed_at or now) - RECONCILE_MARGIN
            result = (
                adapter.find_sent(outgoing(message), since=since)
                if adapter is not None and adapter.reconciles
                else None
            )
            if result is not None:
                found.append(Outcome(message, result=result))
            else:
                message.status = Status.QUEUED
                message.next_attempt_at = now
                message.claimed_by = ""
                message.claimed_at = None
                requeued.append(message)
        update_messages(requeued, ["status", "next_attempt_at", "claimed_by", "claimed_at"])
        if found:
            record_outcomes(found, now=now)
    return len(found), len(requeued)


def recover(*, now: datetime | None = None) -> tuple[int, int]:
    reap_expired_claims(now=now)
    return reconcile_in_doubt(now=now)


def run_dispatcher(*, stop: threading.Event, interval: float | None = None) -> None:
    """Recover, then send until nothing is due; wait ``interval``; again until stopped."""
    interval = settings.CARELINE_MESSAGING_DISPATCH_SECONDS if interval is None else interval
    worker = worker_name()
    try:
        while interval > 0 and not stop.is_set():
            close_old_connections()
            try:
                recover()
                while not stop.is_set() and dispatch_once(worker=worker):
                    pass
            except Exception:
                logger.exception("messaging dispatcher: round failed; retrying")
                connection.close()
            stop.wait(interval)
    finally:
        connection.close()


def start_dispatcher_thread() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_dispatcher, kwargs={"stop": stop}, name="careline-messaging", daemon=True
    )
    thread.start()
    return thread, stop
