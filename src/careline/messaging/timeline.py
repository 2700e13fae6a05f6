"""Every message, in or out, is one event on the patient's timeline (kind MESSAGE), keyed by
the message (``Message/<public id>``) so its status updates the same event: queued →
deferred → sent → delivered → read. The title names channel, purpose and status only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from careline.messaging.models import Channel, Message, Purpose, Status
from careline.patients.bulk.facts import TimelineRow, record_source_events
from careline.patients.reach import ReachFacts
from careline.platform.actors import Actor

SOURCE_SYSTEM = "urn:careline:messaging"
MESSAGE_KIND = "message"


def title_of(message: Message) -> str:
    return (
        f"{Channel(message.channel).label} · {Purpose(message.purpose).label}: "
        f"{Status(message.status).label}"
    )


def record_statuses(
    *,
    actor: Actor,
    messages: Sequence[Message],
    reach: Mapping[int, ReachFacts] | None,
    now: datetime,
) -> None:
    """Add or update the timeline event of each message that belongs to a patient."""
    del reach
    events = [
        TimelineRow(
            patient_id=message.patient_id,
            source_key=f"Message/{message.public_id}",
            kind=MESSAGE_KIND,
            title=title_of(message),
            occurred_at=message.created_at or now,
            detail=message.decision_reason,
        )
        for message in messages
        if message.patient_id is not None
    ]
    record_source_events(actor=actor, source_system=SOURCE_SYSTEM, received_at=now, events=events)
