"""Set-up pages (administrators): visit types, availability templates, exceptions and
holidays, provider rules, red-flag lists. Rules are data, edited here; every save goes
through the ``scheduling.configuration`` (or ``directory.visit_types``) services, which
validate, audit and refuse with a message a person can act on (shown at its field, 422).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.directory.visit_types import (
    create_visit_type,
    get_visit_type,
    list_visit_types,
    update_visit_type,
)
from careline.platform import clock
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import CarelineError, ValidationFailed
from careline.platform.http import staff_view
from careline.platform.permissions import Permission
from careline.scheduling import configuration, configuration_changes, selectors
from careline.scheduling.config_forms import (
    ConfigForm,
    ExceptionForm,
    ProviderRuleForm,
    RedFlagListForm,
    TemplateForm,
    VisitTypeForm,
)

Saver = Callable[[], object]


def _choices() -> dict[str, Any]:
    bookables = selectors.list_bookables()
    return {
        "practitioners": [(str(p.public_id), p.display_name) for p in bookables.practitioners],
        "locations": [(str(location.public_id), location.name) for location in bookables.locations],
    }


def _save(
    request: HttpRequest, form: ConfigForm, saver: Saver, template: str, context: dict[str, Any]
) -> HttpResponse:
    """Run the service; on a refusal, the form again with the message at its field (422)."""
    try:
        saver()
    except ValidationFailed as error:
        form.add_service_error(error)
    except CarelineError as error:
        form.add_error(None, error.message)
        return render(request, template, {**context, "form": form}, status=error.status)
    else:
        messages.success(request, "Saved.")
        return redirect("scheduling:setup")
    return render(request, template, {**context, "form": form}, status=422)


def _invalid(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=422)


@staff_view
@require_GET
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="Schedule")
def setup(request: HttpRequest) -> HttpResponse:
    """Everything that shapes the schedule, on one page, with links to add and edit."""
    context = {
        "visit_types": list_visit_types(active_only=False),
        "templates": selectors.list_templates(),
        "exceptions": selectors.list_exceptions(since=clock.now()),
        "rules": selectors.list_provider_rules(),
        "red_flag_lists": selectors.list_red_flag_lists(),
    }
    return render(request, "scheduling/setup.html", context)


# --- visit types -----------------------------------------------------------------------------


def _red_flag_codes() -> list[tuple[str, str]]:
    return [(row.code, row.name) for row in selectors.list_red_flag_lists(active_only=True)]


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.MANAGE_VISIT_TYPES, resource_type="VisitType")
def visit_type_form(request: HttpRequest, visit_type_id: uuid.UUID | None = None) -> HttpResponse:
    existing = (
        get_visit_type(visit_type_id=visit_type_id, active_only=False) if visit_type_id else None
    )
    template = "scheduling/config_form.html"
    context: dict[str, Any] = {
        "title": f"Edit {existing.name}" if existing else "Add a visit type",
        "form_id": "visit-type",
    }
    if request.method == "GET":
        initial = VisitTypeForm.initial_from(existing) if existing else None
        context["form"] = VisitTypeForm(initial=initial, red_flag_codes=_red_flag_codes())
        if existing:
            context["form"].fields["code"].disabled = True
        return render(request, template, context)
    form = VisitTypeForm(request.POST, red_flag_codes=_red_flag_codes())
    if existing:
        form.fields["code"].disabled = True
        form.initial["code"] = existing.code
    if not form.is_valid():
        return _invalid(request, template, {**context, "form": form})
    fields = form.service_fields()
    actor = actor_from_request(request)
    code, name = fields.pop("code"), fields.pop("name")
    if existing:
        return _save(
            request,
            form,
            lambda: update_visit_type(
                actor=actor, visit_type_id=existing.public_id, name=name, **fields
            ),
            template,
            context,
        )
    return _save(
        request,
        form,
        lambda: create_visit_type(actor=actor, code=code, name=name, **fields),
        template,
        context,
    )


# --- templates and exceptions ----------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="AvailabilityTemplate")
def template_form(request: HttpRequest) -> HttpResponse:
    visit_types = list_visit_types()
    kwargs: dict[str, Any] = {
        **_choices(),
        "visit_types": [(str(row.public_id), row.name) for row in visit_types],
        "visit_type_codes": {row.code: str(row.public_id) for row in visit_types},
    }
    template = "scheduling/config_form.html"
    context: dict[str, Any] = {"title": "Add weekly hours", "form_id": "template"}
    if request.method == "GET":
        return render(request, template, {**context, "form": TemplateForm(**kwargs)})
    form = TemplateForm(request.POST, **kwargs)
    if not form.is_valid():
        return _invalid(request, template, {**context, "form": form})
    data = form.cleaned_data
    actor = actor_from_request(request)

    def save() -> object:
        return [
            configuration.create_template(
                actor=actor,
                practitioner_id=uuid.UUID(data["practitioner"]),
                location_id=uuid.UUID(data["location"]),
                weekday=weekday,
                start_time=data["start_time"],
                end_time=data["end_time"],
                slot_minutes=data["slot_minutes"],
                effective_from=data["effective_from"],
                effective_to=data["effective_to"],
                visit_type_ids=[uuid.UUID(value) for value in data["visit_types"]],
                blocks=data["blocks"],
            )
            for weekday in data["weekdays"]
        ]

    return _save(request, form, save, template, context)


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="AvailabilityTemplate")
def template_edit(request: HttpRequest, template_id: uuid.UUID) -> HttpResponse:
    """Change one session's hours, dates, slot length, visit types and blocks; visits booked
    that the new hours leave out are flagged for *Flagged visits*."""
    existing = selectors.get_template(template_id=template_id)
    visit_types = list_visit_types()
    kwargs: dict[str, Any] = {
        **_choices(),
        "visit_types": [(str(row.public_id), row.name) for row in visit_types],
        "visit_type_codes": {row.code: str(row.public_id) for row in visit_types},
    }
    initial = TemplateForm.initial_from(existing)
    template = "scheduling/config_form.html"
    context: dict[str, Any] = {"title": f"Edit weekly hours: {existing}", "form_id": "template"}
    form = TemplateForm(
        request.POST if request.method == "POST" else None, initial=initial, **kwargs
    )
    form.fix_session(initial)
    if request.method == "GET":
        return render(request, template, {**context, "form": form})
    if not form.is_valid():
        return _invalid(request, template, {**context, "form": form})
    data = form.cleaned_data
    return _save(
        request,
        form,
        lambda: configuration_changes.update_template(
            actor=actor_from_request(request),
            template_id=template_id,
            start_time=data["start_time"],
            end_time=data["end_time"],
            slot_minutes=data["slot_minutes"],
            effective_from=data["effective_from"],
            effective_to=data["effective_to"],
            visit_type_ids=[uuid.UUID(value) for value in data["visit_types"]],
            blocks=data["blocks"],
        ),
        template,
        context,
    )


@staff_view
@require_POST
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="AvailabilityTemplate")
def remove_template(request: HttpRequest, template_id: uuid.UUID) -> HttpResponse:
    configuration_changes.remove_template(
        actor=actor_from_request(request), template_id=template_id
    )
    messages.success(request, "Weekly hours removed.")
    return redirect("scheduling:setup")


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="AvailabilityException")
def exception_form(request: HttpRequest) -> HttpResponse:
    template = "scheduling/config_form.html"
    context: dict[str, Any] = {"title": "Add leave, a holiday or a closure", "form_id": "exception"}
    if request.method == "GET":
        return render(request, template, {**context, "form": ExceptionForm(**_choices())})
    form = ExceptionForm(request.POST, **_choices())
    if not form.is_valid():
        return _invalid(request, template, {**context, "form": form})
    data = form.cleaned_data
    return _save(
        request,
        form,
        lambda: configuration.add_exception(
            actor=actor_from_request(request),
            kind=data["kind"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            practitioner_id=uuid.UUID(data["practitioner"]) if data["practitioner"] else None,
            location_id=uuid.UUID(data["location"]) if data["location"] else None,
            reason=data["reason"],
        ),
        template,
        context,
    )


@staff_view
@require_POST
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="AvailabilityException")
def remove_exception(request: HttpRequest, exception_id: uuid.UUID) -> HttpResponse:
    configuration_changes.remove_exception(
        actor=actor_from_request(request), exception_id=exception_id
    )
    messages.success(request, "Exception removed.")
    return redirect("scheduling:setup")


# --- provider rules and red-flag lists -------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="ProviderRule")
def rule_form(request: HttpRequest, rule_id: uuid.UUID | None = None) -> HttpResponse:
    existing = selectors.get_provider_rule(rule_id=rule_id) if rule_id else None
    kwargs = {
        "practitioners": _choices()["practitioners"],
        "visit_types": [(str(row.public_id), row.name) for row in list_visit_types()],
    }
    template = "scheduling/config_form.html"
    context: dict[str, Any] = {
        "title": "Edit a provider rule" if existing else "Add a provider rule",
        "form_id": "rule",
    }
    if request.method == "GET":
        initial = ProviderRuleForm.initial_from(existing) if existing else None
        return render(
            request, template, {**context, "form": ProviderRuleForm(initial=initial, **kwargs)}
        )
    form = ProviderRuleForm(request.POST, **kwargs)
    if not form.is_valid():
        return _invalid(request, template, {**context, "form": form})
    data, actor = form.cleaned_data, actor_from_request(request)
    common = {
        "kind": data["kind"],
        "parameters": form.parameters(),
        "visit_type_id": uuid.UUID(data["visit_type"]) if data["visit_type"] else None,
        "weekday": data["weekday"],
        "part_of_day": data["part_of_day"],
        "description": data["description"],
    }

    def save() -> object:
        if existing:
            return configuration_changes.update_provider_rule(
                actor=actor, rule_id=existing.public_id, is_active=data["is_active"], **common
            )
        return configuration.create_provider_rule(
            actor=actor, practitioner_id=uuid.UUID(data["practitioner"]), **common
        )

    return _save(request, form, save, template, context)


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.MANAGE_SCHEDULES, resource_type="RedFlagList")
def red_flag_form(request: HttpRequest, code: str | None = None) -> HttpResponse:
    existing = selectors.get_red_flag_list(code=code, active_only=False) if code else None
    if code and existing is None:
        raise ValidationFailed("No such red-flag list.")
    template = "scheduling/config_form.html"
    context: dict[str, Any] = {
        "title": f"Edit {existing.name}" if existing else "Add a red-flag list",
        "form_id": "red-flags",
    }
    if request.method == "GET":
        form = RedFlagListForm(initial=RedFlagListForm.initial_from(existing) if existing else None)
        if existing:
            form.fields["code"].disabled = True
        return render(request, template, {**context, "form": form})
    form = RedFlagListForm(request.POST)
    if existing:
        form.fields["code"].disabled = True
        form.initial["code"] = existing.code
    if not form.is_valid():
        return _invalid(request, template, {**context, "form": form})
    data, actor = form.cleaned_data, actor_from_request(request)

    def save() -> object:
        if existing:
            return configuration_changes.update_red_flag_list(
                actor=actor,
                code=existing.code,
                name=data["name"],
                questions=data["questions"],
                advice=data["advice"],
                is_active=data["is_active"],
            )
        return configuration.create_red_flag_list(
            actor=actor,
            code=data["code"],
            name=data["name"],
            questions=data["questions"],
            advice=data["advice"],
        )

    return _save(request, form, save, template, context)
