"""Messaging's reads for staff: the outbox list (no PHI: channel, purpose, status, the rule
that decided it, a link to the patient) and one message (its text and address: PHI, so
access-checked per patient and audited)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from careline.messaging.models import Channel, Message, SinkRecord, Status
from careline.patients.access import access_patient
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import NotFound
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission

OUTBOX_PAGE_SIZE = 100
PORTAL_VISIBLE = (Status.SENT, Status.DELIVERED, Status.READ)


def list_outbox(
    *, actor: Actor, status: str = "", channel: str = "", limit: int = OUTBOX_PAGE_SIZE
) -> list[Message]:
    """The latest messages, newest first, optionally of one status and channel (one query).
    Rows carry no text or address; the patient is a link (her page checks access)."""
    require_permission(actor, Permission.VIEW_MESSAGES, resource_type="Message")
    rows: QuerySet[Message] = Message.objects.select_related("patient").only(
        "public_id",
        "patient__public_id",
        "direction",
        "channel",
        "purpose",
        "category",
        "status",
        "decision",
        "decision_rule",
        "error_code",
        "error_kind",
        "due_at",
        "created_at",
        "sent_at",
    )
    if status in Status.values:
        rows = rows.filter(status=status)
    if channel in Channel.values:
        rows = rows.filter(channel=channel)
    return list(rows.order_by("-created_at", "-pk")[:limit])


@dataclass(frozen=True)
class MessageView:
    message: Message
    sink: SinkRecord | None  # what a demo sink stored for it (readable by staff)


def get_message(*, actor: Actor, message_id: uuid.UUID) -> MessageView:
    """One message with its text; reading it is a PHI read: the patient's access rule
    applies and the read is audited (a message without a patient: permission + audit)."""
    message = (
        Message.objects.select_related("patient", "template").filter(public_id=message_id).first()
    )
    if message is None:
        require_permission(actor, Permission.VIEW_MESSAGES, resource_type="Message")
        raise NotFound("No such message.")
    if message.patient is not None:
        access_patient(
            actor=actor,
            patient_id=message.patient.public_id,
            permission=Permission.VIEW_MESSAGES,
            action=None,
            resource_type="Message",
        )
    else:
        require_permission(actor, Permission.VIEW_MESSAGES, resource_type="Message")
    audit.record_event(
        actor=actor,
        action=AuditAction.READ,
        resource_type="Message",
        resource_id=str(message.public_id),
        patient_id=message.patient.public_id if message.patient else None,
    )
    sink = SinkRecord.objects.filter(reference=message.public_id).first()
    return MessageView(message=message, sink=sink)


def list_portal_messages(*, patient_id: uuid.UUID) -> list[Message]:
    """The secure messages a patient can read in the portal, newest first (one query). The
    portal has checked who may read them (``portal.access.portal_patient``)."""
    return list(
        Message.objects.filter(
            patient__public_id=patient_id,
            channel=Channel.PORTAL,
            status__in=PORTAL_VISIBLE,
        ).order_by("-sent_at", "-pk")
    )


def get_portal_message(*, patient_id: uuid.UUID, message_id: uuid.UUID) -> Message:
    """One of her portal messages, or NotFound (another patient's is "not found" too)."""
    message = Message.objects.filter(
        public_id=message_id,
        patient__public_id=patient_id,
        channel=Channel.PORTAL,
        status__in=PORTAL_VISIBLE,
    ).first()
    if message is None:
        raise NotFound("No such message.")
    return message
