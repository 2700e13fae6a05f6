"""Writes that set schedules up: resources, availability templates with their blocks,
exceptions, provider rules, red-flag lists (``scheduling.manage_schedules``), and referrals on
file (booking staff, per patient). Each validates, writes in one transaction and is audited;
the staff pages that edit these come later and call these functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import IntegrityError, transaction

from careline.directory.visit_types import (
    get_visit_type,
    resolve_location_ids,
    resolve_practitioner_ids,
)
from careline.patients.access import access_patient
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.platform.text import require_plain_text
from careline.scheduling.bumps.detection import review_exception, review_template
from careline.scheduling.models import (
    AvailabilityException,
    AvailabilityTemplate,
    BlockKind,
    BookingQuestion,
    ExceptionKind,
    PartOfDay,
    ProviderRule,
    RedFlagList,
    ReferralOnFile,
    Resource,
    RuleKind,
    TemplateBlock,
)
from careline.scheduling.patient_booking import check_question_answers
from careline.scheduling.rules import validate_parameters
from careline.scheduling.waitlist.tasks import find_new_availability_task


@dataclass(frozen=True)
class BlockIn:
    kind: str
    start: time
    end: time
    visit_type_id: uuid.UUID | None = None
    release_minutes_before: int | None = None


def _manage(actor: Actor, resource_type: str) -> None:
    require_permission(actor, Permission.MANAGE_SCHEDULES, resource_type=resource_type)


def _audit(actor: Actor, resource_type: str, public_id: uuid.UUID, **details: Any) -> None:
    audit.record_event(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type=resource_type,
        resource_id=str(public_id),
        details=details or None,
    )


def _practitioner(public_id: uuid.UUID) -> int:
    pk = resolve_practitioner_ids([public_id]).get(public_id)
    if pk is None:
        raise NotFound("No such practitioner.", details={"field": "practitioner_id"})
    return pk


def _location(public_id: uuid.UUID) -> int:
    pk = resolve_location_ids([public_id]).get(public_id)
    if pk is None:
        raise NotFound("No such location.", details={"field": "location_id"})
    return pk


def _choice(value: str, choices: Any, field: str) -> None:
    if value not in choices.values:
        raise ValidationFailed(
            f"{field} must be one of: {', '.join(map(str, choices.values))}.",
            details={"field": field},
        )


def create_resource(*, actor: Actor, location_id: uuid.UUID, kind: str, name: str) -> Resource:
    _manage(actor, "Resource")
    for value, field in ((kind, "kind"), (name, "name")):
        require_plain_text(value, field=field, label=field.capitalize())
        if not value.strip():
            raise ValidationFailed(f"Enter the {field}.", details={"field": field})
    with transaction.atomic():
        resource = Resource.objects.create(
            location_id=_location(location_id), kind=kind.strip(), name=name.strip()
        )
        _audit(actor, "Resource", resource.public_id)
    return resource


def create_template(
    *,
    actor: Actor,
    practitioner_id: uuid.UUID,
    location_id: uuid.UUID,
    weekday: int,
    start_time: time,
    end_time: time,
    effective_from: date,
    effective_to: date | None = None,
    slot_minutes: int = 15,
    visit_type_ids: Sequence[uuid.UUID] = (),
    blocks: Sequence[BlockIn] = (),
) -> AvailabilityTemplate:
    """A weekly session with its breaks and reserved blocks (inside the session's hours)."""
    _manage(actor, "AvailabilityTemplate")
    validate_template_hours(
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        slot_minutes=slot_minutes,
        effective_from=effective_from,
        effective_to=effective_to,
    )
    visit_types = [get_visit_type(visit_type_id=public_id) for public_id in visit_type_ids]
    rows = [block_row(block, start_time, end_time) for block in blocks]
    with transaction.atomic():
        template = AvailabilityTemplate.objects.create(
            practitioner_id=_practitioner(practitioner_id),
            location_id=_location(location_id),
            weekday=weekday,
            start_time=start_time,
            end_time=end_time,
            slot_minutes=slot_minutes,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        template.visit_types.set(visit_types)
        for row in rows:
            row.template = template
        TemplateBlock.objects.bulk_create(rows)
        _audit(actor, "AvailabilityTemplate", template.public_id, blocks=len(rows))
        # New hours may put flagged visits back inside availability: clear those flags.
        review_template(actor=actor, template=template, cause=None, now=clock.now())
        # New hours may suit waitlisted patients: offer them (in the worker, after commit).
        find_new_availability_task.enqueue(str(practitioner_id))
    return template


def validate_template_hours(
    *,
    weekday: int,
    start_time: time,
    end_time: time,
    slot_minutes: int,
    effective_from: date,
    effective_to: date | None,
) -> None:
    """A weekly session's day, hours, slot length and dates (on create and on edit)."""
    if not 0 <= weekday <= 6:
        raise ValidationFailed("weekday is 0 (Monday) to 6 (Sunday).", details={"field": "weekday"})
    if not start_time < end_time:
        raise ValidationFailed(
            "The session must end after it starts.", details={"field": "end_time"}
        )
    if not 1 <= slot_minutes <= 240:
        raise ValidationFailed("slot_minutes is 1 to 240.", details={"field": "slot_minutes"})
    if effective_to is not None and effective_to < effective_from:
        raise ValidationFailed(
            "effective_to is before effective_from.", details={"field": "effective_to"}
        )


def block_row(block: BlockIn, session_start: time, session_end: time) -> TemplateBlock:
    """An unsaved block of a session, checked to lie inside it."""
    _choice(block.kind, BlockKind, "kind")
    if not session_start <= block.start < block.end <= session_end:
        raise ValidationFailed(
            "A block lies inside its session and ends after it starts.",
            details={"field": "blocks"},
        )
    if block.kind == BlockKind.BREAK and (
        block.visit_type_id is not None or block.release_minutes_before is not None
    ):
        raise ValidationFailed(
            "A break has no visit type and no release time.", details={"field": "blocks"}
        )
    visit_type = get_visit_type(visit_type_id=block.visit_type_id) if block.visit_type_id else None
    return TemplateBlock(
        kind=block.kind,
        start_time=block.start,
        end_time=block.end,
        visit_type=visit_type,
        release_minutes_before=block.release_minutes_before,
    )


def add_exception(
    *,
    actor: Actor,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    practitioner_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    reason: str = "",
) -> AvailabilityException:
    """Leave (a practitioner) or a holiday/closure (no practitioner: organisation-wide).

    Appointments already booked in it stay booked and are flagged, in this transaction, for
    the provider-bump workflow (``bumps.detection``).
    """
    _manage(actor, "AvailabilityException")
    _choice(kind, ExceptionKind, "kind")
    if starts_at.tzinfo is None or ends_at.tzinfo is None or not starts_at < ends_at:
        raise ValidationFailed("Give an aware start before the end.", details={"field": "ends_at"})
    require_plain_text(reason, field="reason", label="The reason")
    with transaction.atomic():
        exception = AvailabilityException.objects.create(
            practitioner_id=_practitioner(practitioner_id) if practitioner_id else None,
            location_id=_location(location_id) if location_id else None,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip()[:200],
        )
        review = review_exception(actor=actor, exception=exception, added=True, now=clock.now())
        _audit(actor, "AvailabilityException", exception.public_id, flagged=len(review.flagged))
    return exception


def create_provider_rule(
    *,
    actor: Actor,
    practitioner_id: uuid.UUID,
    kind: str,
    parameters: Mapping[str, Any] | None = None,
    visit_type_id: uuid.UUID | None = None,
    weekday: int | None = None,
    part_of_day: str = PartOfDay.ANY,
    description: str = "",
) -> ProviderRule:
    """A practitioner's rule, e.g. ``no_new_patients`` on Friday afternoons."""
    _manage(actor, "ProviderRule")
    _choice(kind, RuleKind, "kind")
    _choice(part_of_day, PartOfDay, "part_of_day")
    if weekday is not None and not 0 <= weekday <= 6:
        raise ValidationFailed("weekday is 0 (Monday) to 6 (Sunday).", details={"field": "weekday"})
    stored = validate_parameters(kind, parameters or {})
    require_plain_text(description, field="description", label="The description")
    visit_type = get_visit_type(visit_type_id=visit_type_id) if visit_type_id else None
    with transaction.atomic():
        rule = ProviderRule.objects.create(
            practitioner_id=_practitioner(practitioner_id),
            visit_type=visit_type,
            kind=kind,
            parameters=stored,
            weekday=weekday,
            part_of_day=part_of_day,
            description=description.strip()[:200],
        )
        _audit(actor, "ProviderRule", rule.public_id, kind=kind)
    return rule


def create_red_flag_list(
    *, actor: Actor, code: str, name: str, questions: Sequence[Mapping[str, str]], advice: str
) -> RedFlagList:
    """A red-flag list: ``questions`` as ``{"code", "text"}``; ``advice`` for a "yes"."""
    _manage(actor, "RedFlagList")
    codes = [str(question.get("code", "")).strip() for question in questions]
    if not questions or not all(codes) or len(set(codes)) != len(codes):
        raise ValidationFailed(
            "Give at least one question, each with its own code and text.",
            details={"field": "questions"},
        )
    if not all(str(question.get("text", "")).strip() for question in questions):
        raise ValidationFailed("Every question needs its text.", details={"field": "questions"})
    if not advice.strip():
        raise ValidationFailed(
            "Say what to do after a yes (nurse line, emergency advice).",
            details={"field": "advice"},
        )
    try:
        with transaction.atomic():
            red_flags = RedFlagList.objects.create(
                code=code,
                name=name.strip(),
                questions=[
                    {"code": c, "text": str(question["text"]).strip()}
                    for c, question in zip(codes, questions, strict=True)
                ],
                advice=advice.strip(),
            )
            _audit(actor, "RedFlagList", red_flags.public_id)
    except IntegrityError as error:
        raise Conflict(
            f"A red-flag list {code!r} exists already.", details={"field": "code"}
        ) from error
    return red_flags


def save_booking_questionnaire(
    *, actor: Actor, questions: Sequence[Mapping[str, Any]]
) -> list[BookingQuestion]:
    """The portal's "what visit do you need?" tree, added in one go: each question as
    ``{"code", "text", "answers", "help_text"?, "is_start"?}``, its answers checked as the
    admin checks them (each leads to a question of the tree or one that exists, a visit
    type, or advice). All or nothing; a code that exists is a conflict."""
    _manage(actor, "BookingQuestion")
    codes = [str(question.get("code", "")).strip() for question in questions]
    if not questions or not all(codes) or len(set(codes)) != len(codes):
        raise ValidationFailed(
            "Give at least one question, each with its own code.", details={"field": "code"}
        )
    if not all(str(question.get("text", "")).strip() for question in questions):
        raise ValidationFailed("Every question needs its text.", details={"field": "text"})
    known = set(BookingQuestion.objects.values_list("code", flat=True)) | set(codes)
    for question in questions:
        check_question_answers(question.get("answers"), known_codes=known)
    try:
        with transaction.atomic():
            saved = [
                BookingQuestion.objects.create(
                    code=code,
                    text=str(question.get("text", "")).strip(),
                    help_text=str(question.get("help_text", "")).strip(),
                    answers=list(question["answers"]),
                    is_start=bool(question.get("is_start", False)),
                )
                for code, question in zip(codes, questions, strict=True)
            ]
            audit.record_events(
                actor=actor,
                entries=[
                    audit.AuditEntry(AuditAction.CREATE, "BookingQuestion", row.code)
                    for row in saved
                ],
            )
    except IntegrityError as error:
        raise Conflict(
            "A question with one of these codes exists already, or the tree has two starts.",
            details={"field": "code"},
        ) from error
    return saved


def record_referral(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    specialty: str = "",
    visit_type_id: uuid.UUID | None = None,
    received_on: date | None = None,
    valid_until: date | None = None,
    referring_practitioner: str = "",
    note: str = "",
) -> ReferralOnFile:
    """A referral on file for a patient: for a specialty, or one visit type."""
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.BOOK_APPOINTMENT,
        action=None,
        resource_type="ReferralOnFile",
    )
    visit_type = get_visit_type(visit_type_id=visit_type_id) if visit_type_id else None
    if visit_type is None and not specialty.strip():
        raise ValidationFailed(
            "Name the specialty or the visit type referred to.", details={"field": "specialty"}
        )
    for value, field in (
        (specialty, "specialty"),
        (referring_practitioner, "referring_practitioner"),
        (note, "note"),
    ):
        require_plain_text(value, field=field, label=field.replace("_", " ").capitalize())
    now = clock.now()
    with transaction.atomic():
        referral = ReferralOnFile.objects.create(
            patient=access.patient,
            specialty=specialty.strip(),
            visit_type=visit_type,
            referring_practitioner=referring_practitioner.strip()[:200],
            received_on=received_on or now.date(),
            valid_until=valid_until,
            note=note.strip()[:300],
            recorded_by=actor.user,
            recorded_at=now,
        )
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="ReferralOnFile",
            resource_id=str(referral.public_id),
            patient_id=access.patient.public_id,
            is_break_glass=access.is_break_glass,
        )
    return referral
