"""Changes to the schedule set-up made from the configuration pages: edit or switch off a
provider rule, edit a red-flag list, remove a template or an exception
(``scheduling.manage_schedules``). Each validates like its ``configuration.create_*``
counterpart, writes in one transaction and is audited.

Removing or editing a template leaves appointments already booked in place and flags, in the
same transaction, those now outside the provider's hours (``bumps.detection``); removing an
exception clears the flags of visits it had displaced.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any

from django.db import transaction

from careline.directory.visit_types import get_visit_type
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.platform.text import require_plain_text
from careline.scheduling.bumps.detection import review_exception, review_template
from careline.scheduling.bumps.models import FlagCause
from careline.scheduling.configuration import BlockIn, block_row, validate_template_hours
from careline.scheduling.models import (
    AvailabilityException,
    AvailabilityTemplate,
    PartOfDay,
    ProviderRule,
    RedFlagList,
    RuleKind,
    TemplateBlock,
)
from careline.scheduling.rules import validate_parameters


def _manage(actor: Actor, resource_type: str) -> None:
    require_permission(actor, Permission.MANAGE_SCHEDULES, resource_type=resource_type)


def _audit(
    actor: Actor, action: str, resource_type: str, public_id: uuid.UUID, **details: Any
) -> None:
    audit.record_event(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=str(public_id),
        details=details or None,
    )


def update_provider_rule(
    *,
    actor: Actor,
    rule_id: uuid.UUID,
    kind: str,
    parameters: Mapping[str, Any] | None = None,
    visit_type_id: uuid.UUID | None = None,
    weekday: int | None = None,
    part_of_day: str = PartOfDay.ANY,
    description: str = "",
    is_active: bool = True,
) -> ProviderRule:
    """Replace what a rule says (its practitioner stays); ``is_active=False`` switches it off."""
    _manage(actor, "ProviderRule")
    if kind not in RuleKind.values:
        raise ValidationFailed(
            f"kind must be one of: {', '.join(RuleKind.values)}.", details={"field": "kind"}
        )
    if part_of_day not in PartOfDay.values:
        raise ValidationFailed(
            f"part_of_day must be one of: {', '.join(PartOfDay.values)}.",
            details={"field": "part_of_day"},
        )
    if weekday is not None and not 0 <= weekday <= 6:
        raise ValidationFailed("weekday is 0 (Monday) to 6 (Sunday).", details={"field": "weekday"})
    stored = validate_parameters(kind, parameters or {})
    require_plain_text(description, field="description", label="The description")
    visit_type = get_visit_type(visit_type_id=visit_type_id) if visit_type_id else None
    with transaction.atomic():
        rule = ProviderRule.objects.select_for_update().filter(public_id=rule_id).first()
        if rule is None:
            raise NotFound("No such provider rule.")
        rule.kind, rule.parameters, rule.visit_type = kind, stored, visit_type
        rule.weekday, rule.part_of_day = weekday, part_of_day
        rule.description, rule.is_active = description.strip()[:200], is_active
        rule.save(
            update_fields=[
                "kind",
                "parameters",
                "visit_type",
                "weekday",
                "part_of_day",
                "description",
                "is_active",
            ]
        )
        _audit(actor, AuditAction.UPDATE, "ProviderRule", rule.public_id, kind=kind)
    return rule


def update_red_flag_list(
    *,
    actor: Actor,
    code: str,
    name: str,
    questions: Sequence[Mapping[str, str]],
    advice: str,
    is_active: bool = True,
) -> RedFlagList:
    """Replace a red-flag list's name, questions and advice (its code stays)."""
    _manage(actor, "RedFlagList")
    codes = [str(question.get("code", "")).strip() for question in questions]
    texts = [str(question.get("text", "")).strip() for question in questions]
    if not questions or not all(codes) or len(set(codes)) != len(codes) or not all(texts):
        raise ValidationFailed(
            "Give at least one question, each with its own code and text.",
            details={"field": "questions"},
        )
    if not name.strip():
        raise ValidationFailed("Give the list a name.", details={"field": "name"})
    if not advice.strip():
        raise ValidationFailed(
            "Say what to do after a yes (nurse line, emergency advice).",
            details={"field": "advice"},
        )
    with transaction.atomic():
        red_flags = RedFlagList.objects.select_for_update().filter(code=code).first()
        if red_flags is None:
            raise NotFound("No such red-flag list.")
        red_flags.name, red_flags.advice = name.strip()[:200], advice.strip()
        red_flags.questions = [
            {"code": c, "text": text} for c, text in zip(codes, texts, strict=True)
        ]
        red_flags.is_active = is_active
        red_flags.save(update_fields=["name", "advice", "questions", "is_active"])
        _audit(actor, AuditAction.UPDATE, "RedFlagList", red_flags.public_id)
    return red_flags


def update_template(
    *,
    actor: Actor,
    template_id: uuid.UUID,
    start_time: time,
    end_time: time,
    effective_from: date,
    effective_to: date | None = None,
    slot_minutes: int = 15,
    visit_type_ids: Sequence[uuid.UUID] = (),
    blocks: Sequence[BlockIn] = (),
) -> AvailabilityTemplate:
    """Change a weekly session's hours, dates, slot length, visit types and blocks (its
    practitioner, location and weekday stay: that is another session). Visits booked that the
    new hours leave out are flagged for the provider-bump workflow."""
    _manage(actor, "AvailabilityTemplate")
    visit_types = [get_visit_type(visit_type_id=public_id) for public_id in visit_type_ids]
    with transaction.atomic():
        template = (
            AvailabilityTemplate.objects.select_for_update(of=("self",))
            .select_related("location")
            .filter(public_id=template_id)
            .first()
        )
        if template is None:
            raise NotFound("No such availability template.")
        validate_template_hours(
            weekday=template.weekday,
            start_time=start_time,
            end_time=end_time,
            slot_minutes=slot_minutes,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        rows = [block_row(block, start_time, end_time) for block in blocks]
        template.start_time, template.end_time = start_time, end_time
        template.effective_from, template.effective_to = effective_from, effective_to
        template.slot_minutes = slot_minutes
        template.save(
            update_fields=[
                "start_time",
                "end_time",
                "effective_from",
                "effective_to",
                "slot_minutes",
            ]
        )
        template.visit_types.set(visit_types)
        TemplateBlock.objects.filter(template=template).delete()
        for row in rows:
            row.template = template
        TemplateBlock.objects.bulk_create(rows)
        review = review_template(
            actor=actor, template=template, cause=FlagCause.TEMPLATE_CHANGED, now=clock.now()
        )
        _audit(
            actor,
            AuditAction.UPDATE,
            "AvailabilityTemplate",
            template.public_id,
            blocks=len(rows),
            flagged=len(review.flagged),
        )
    return template


def remove_template(*, actor: Actor, template_id: uuid.UUID) -> None:
    """Delete a weekly session (its blocks go with it); visits booked in it are flagged."""
    _manage(actor, "AvailabilityTemplate")
    with transaction.atomic():
        template = (
            AvailabilityTemplate.objects.select_related("location")
            .filter(public_id=template_id)
            .first()
        )
        if template is None:
            raise NotFound("No such availability template.")
        template.delete()
        review = review_template(
            actor=actor, template=template, cause=FlagCause.TEMPLATE_REMOVED, now=clock.now()
        )
        flagged = len(review.flagged)
        _audit(actor, AuditAction.DELETE, "AvailabilityTemplate", template_id, flagged=flagged)


def remove_exception(*, actor: Actor, exception_id: uuid.UUID) -> None:
    """Delete an exception (leave, holiday, closure): its time is bookable again, and the
    open flags of visits it had displaced are cleared."""
    _manage(actor, "AvailabilityException")
    with transaction.atomic():
        exception = AvailabilityException.objects.filter(public_id=exception_id).first()
        if exception is None:
            raise NotFound("No such exception.")
        exception.delete()
        review_exception(actor=actor, exception=exception, added=False, now=clock.now())
        _audit(actor, AuditAction.DELETE, "AvailabilityException", exception_id)
