"""The dispatcher: claims due outbox rows, re-checks the gate, sends through the channel's
adapter and records what happened.

At most once, honestly: a claimed message is committed as SENDING *before* its adapter is
called; the outcome (SENT, a retry, FAILED) is committed after the batch. A worker killed in
between leaves SENDING rows whose lease expires; the reaper (``messaging.recovery``) turns
them IN_DOUBT and asks the adapter's ``find_sent`` before any resend. Claims take ``SELECT …
FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of dispatchers on any machines share
the queue; SQLite (embedded mode) runs one. Transient failures retry with exponential backoff;
permanent ones record the provider's code and reason and their consequence (a carrier opt-out,
landline, bounce or complaint suppresses the address; a carrier filter alerts staff).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from careline.messaging import timeline
from careline.messaging.channels.base import (
    ChannelAdapter,
    ChannelError,
    ChannelKind,
    FailureKind,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from careline.messaging.channels.registry import adapter_for, is_covered_by_baa
from careline.messaging.facts import Planned, gather_send_facts
from careline.messaging.models import (
    PENDING_STATUSES,
    Decision,
    Message,
    Status,
    Suppression,
    SuppressionReason,
)
from careline.messaging.pacing import reserve_departures
from careline.messaging.policy import Candidate, decide
from careline.messaging.rows import update_messages
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit import AuditEntry
from careline.platform.models import AuditAction, AuditChannel

logger = logging.getLogger(__name__)

# A provider's permanent refusal → the suppression it implies.
SUPPRESS_ON = {
    FailureKind.OPTED_OUT: SuppressionReason.CARRIER,
    FailureKind.LANDLINE: SuppressionReason.LANDLINE,
    FailureKind.BOUNCED: SuppressionReason.BOUNCE,
    FailureKind.COMPLAINT: SuppressionReason.COMPLAINT,
}
CLAIM_FIELDS = [
    "status",
    "decision",
    "decision_rule",
    "decision_reason",
    "next_attempt_at",
    "claimed_by",
    "claimed_at",
    "attempts",
]
OUTCOME_FIELDS = [
    "status",
    "provider_message_id",
    "sent_at",
    "failed_at",
    "next_attempt_at",
    "error_code",
    "error_kind",
    "error_reason",
    "claimed_by",
    "claimed_at",
]


def dispatcher_actor() -> Actor:
    return Actor.system("messaging dispatcher", channel=AuditChannel.TASK)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Claimed:
    message: Message
    departs_at: datetime


def outgoing(message: Message) -> OutgoingMessage:
    return OutgoingMessage(
        reference=str(message.public_id),
        channel=ChannelKind(message.channel),
        to=message.to_address,
        body=message.body,
        sender=message.from_address,
        subject=message.subject,
    )


def claim_due(*, worker: str, limit: int, now: datetime | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due messages, re-decide each with the gate and commit the ones
    to send as SENDING (deferred and blocked ones are recorded as such)."""
    now = now or clock.now()
    horizon = timedelta(seconds=max(settings.CARELINE_MESSAGING_DISPATCH_SECONDS, 1.0))
    with transaction.atomic():
        due = (
            Message.objects.filter(status__in=PENDING_STATUSES, next_attempt_at__lte=now)
            .select_related("patient")
            .order_by("next_attempt_at")
        )
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        messages = list(due[:limit])
        if not messages:
            return []
        to_send, changed = _redecide(messages, worker=worker, now=now)
        claimed = _paced(to_send, now=now, horizon=horizon)
        kept = {item.message.pk for item in claimed}
        for message in to_send:
            if message.pk in kept:
                message.status = Status.SENDING
                message.claimed_by = worker
                message.claimed_at = now
                message.attempts += 1
        touched = kept | {m.pk for m in changed}
        update_messages([m for m in messages if m.pk in touched], CLAIM_FIELDS)
        if changed:
            _record(changed, now=now)
    return claimed


def _redecide(
    messages: Sequence[Message], *, worker: str, now: datetime
) -> tuple[list[Message], list[Message]]:
    """The gate again, with today's facts: (to send, deferred or blocked now)."""
    del worker
    planned = [
        Planned(m.patient_id, m.channel, m.to_address, m.purpose, exclude_pk=m.pk) for m in messages
    ]
    book = gather_send_facts(planned, now=now)
    to_send: list[Message] = []
    changed: list[Message] = []
    for message, plan in zip(messages, planned, strict=True):
        decision = decide(_candidate(message), book.facts_for(plan), now=now)
        if decision.outcome != "block" and not message.is_reply:
            book.count(plan)
        if decision.is_send:
            to_send.append(message)
            continue
        message.decision = Decision(decision.outcome)
        message.decision_rule = decision.rule
        message.decision_reason = decision.reason[:300]
        if decision.outcome == "defer":
            message.status = Status.DEFERRED
            message.next_attempt_at = decision.send_at
        else:
            message.status = Status.BLOCKED
            message.next_attempt_at = None
        changed.append(message)
    return to_send, changed


def _candidate(message: Message) -> Candidate:
    return Candidate(
        channel=message.channel,
        purpose=message.purpose,
        category=message.category,
        address=message.to_address,
        body=message.body,
        is_reply=message.is_reply,
        has_phi=message.has_phi,
        adapter_covered_by_baa=is_covered_by_baa(message.channel),
        expires_at=message.expires_at,
    )


def _paced(messages: Sequence[Message], *, now: datetime, horizon: timedelta) -> list[Claimed]:
    """Departure times per channel and sender; messages past the horizon wait their turn."""
    groups: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for message in messages:
        groups[(message.channel, message.from_address)].append(message)
    claimed: list[Claimed] = []
    for (channel, sender), group in groups.items():
        times = reserve_departures(
            channel=channel, sender=sender, count=len(group), now=now, horizon=horizon
        )
        claimed.extend(Claimed(m, at) for m, at in zip(group, times, strict=False))
    return sorted(claimed, key=lambda item: item.departs_at)


# --- sending ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    message: Message
    result: SendResult | None = None
    error: ChannelError | None = None


def send_claimed(claimed: Sequence[Claimed]) -> list[Outcome]:
    """Hand each claimed message to its adapter at its departure time (no database write)."""
    outcomes: list[Outcome] = []
    adapters: dict[str, ChannelAdapter | None] = {}
    try:
        for item in claimed:
            message = item.message
            if message.channel not in adapters:
                adapters[message.channel] = _opened(adapter_for(message.channel))
            adapter = adapters[message.channel]
            if adapter is None:
                error = PermanentFailure(FailureKind.REJECTED, "No adapter serves this channel.")
                outcomes.append(Outcome(message, error=error))
                continue
            wait = (item.departs_at - clock.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            try:
                outcomes.append(Outcome(message, result=adapter.send(outgoing(message))))
            except ChannelError as error:
                outcomes.append(Outcome(message, error=error))
    finally:
        for adapter in adapters.values():
            close = getattr(adapter, "close_batch", None)
            if close is not None:
                close()
    return outcomes


def _opened(adapter: ChannelAdapter | None) -> ChannelAdapter | None:
    opener = getattr(adapter, "open_batch", None)
    if opener is not None:
        try:
            opener()
        except OSError:
            logger.warning(
                "messaging: %s could not open a connection", adapter.name if adapter else ""
            )
    return adapter


def record_outcomes(outcomes: Sequence[Outcome], *, now: datetime | None = None) -> None:
    """Commit what the adapters answered: SENT, a retry with backoff, or FAILED."""
    now = now or clock.now()
    suppressions: list[Suppression] = []
    for outcome in outcomes:
        message = outcome.message
        message.claimed_by = ""
        message.claimed_at = None
        if outcome.result is not None:
            _sent(message, outcome.result, now)
        elif isinstance(outcome.error, TransientFailure):
            _retry_or_fail(message, outcome.error, now)
        elif outcome.error is not None:
            _failed(message, outcome.error, now)
            reason = SUPPRESS_ON.get(outcome.error.kind)
            if reason is not None and message.to_address:
                suppressions.append(
                    Suppression(
                        channel="sms" if reason == SuppressionReason.LANDLINE else message.channel,
                        address=message.to_address,
                        reason=reason,
                        created_at=now,
                        message=message,
                    )
                )
    with transaction.atomic():
        update_messages([o.message for o in outcomes], OUTCOME_FIELDS)
        Suppression.objects.bulk_create(suppressions, ignore_conflicts=True)
        _record([o.message for o in outcomes], now=now)


def _sent(message: Message, result: SendResult, now: datetime) -> None:
    message.status = Status.SENT
    message.provider_message_id = result.provider_message_id[:200]
    message.sent_at = result.sent_at or now
    message.next_attempt_at = None
    message.error_code = message.error_kind = message.error_reason = ""


def _retry_or_fail(message: Message, error: TransientFailure, now: datetime) -> None:
    if message.attempts >= settings.CARELINE_MESSAGING_MAX_ATTEMPTS:
        _failed(message, error, now)
        return
    message.status = Status.QUEUED
    message.next_attempt_at = now + backoff(message.attempts, error.retry_after)
    _error(message, error)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential: base, 2 x base, 4 x base… after the 1st, 2nd, 3rd attempt — never sooner
    than the provider's ``retry_after``."""
    delay = settings.CARELINE_MESSAGING_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=max(delay, retry_after or 0.0))


def _failed(message: Message, error: ChannelError, now: datetime) -> None:
    message.status = Status.FAILED
    message.failed_at = now
    message.next_attempt_at = None
    _error(message, error)
    if error.kind == FailureKind.FILTERED:
        # Staff see it on the Outbox ("needs attention": failed, filtered); ids only here.
        logger.warning("messaging: carrier filtered message %s", message.public_id)


def _error(message: Message, error: ChannelError) -> None:
    message.error_code = error.code[:40]
    message.error_kind = error.kind.value
    message.error_reason = error.reason[:300]


def _record(messages: Sequence[Message], *, now: datetime) -> None:
    """Audit and timeline for messages whose status changed (ids, status, rule: no PHI)."""
    actor = dispatcher_actor()
    entries = [
        AuditEntry(
            AuditAction.UPDATE,
            "Message",
            str(m.public_id),
            m.patient.public_id if m.patient else None,
            "success",
            False,
            {"status": m.status, "rule": m.decision_rule, "error_code": m.error_code},
        )
        for m in messages
    ]
    audit.record_events(actor=actor, entries=entries)
    timeline.record_statuses(actor=actor, messages=messages)


def dispatch_once(*, worker: str | None = None, limit: int | None = None) -> int:
    """One claim → send → record round; the number of messages handed to adapters."""
    claimed = claim_due(
        worker=worker or worker_name(), limit=limit or settings.CARELINE_MESSAGING_BATCH_SIZE
    )
    if not claimed:
        return 0
    record_outcomes(send_claimed(claimed))
    return len(claimed)
