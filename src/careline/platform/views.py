"""Compliance pages: the audit log (filter, page, export) and the break-glass review.

Every page here is itself audited: reading the trail, exporting it and reviewing a
break-glass access each leave an entry; a staff member without the permission gets 403 and
an ``access_denied`` entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from careline.platform.actors import actor_from_request
from careline.platform.audit import export as audit_export
from careline.platform.audit import selectors as audit_selectors
from careline.platform.audit.services import record_break_glass_queue_view, record_log_view
from careline.platform.authorization import count_anonymous_refusal, refuse, requires_permission
from careline.platform.context_processors import navigation_for
from careline.platform.errors import NotFound, PermissionDenied
from careline.platform.forms import AuditFilterForm, BreakGlassReviewForm
from careline.platform.http import render_error, staff_view
from careline.platform.models import (
    AuditChannel,
    AuditEvent,
    BreakGlassAccess,
    User,
)
from careline.platform.permissions import Permission, Role
from careline.platform.selectors import get_break_glass_queue
from careline.platform.services import review_break_glass
from careline.platform.workspaces import upcoming_work

_ROLE_LABELS = dict(Role.choices)
_EXPORT_CONTENT_TYPES = {
    audit_export.ExportFormat.CSV: "text/csv; charset=utf-8",
    audit_export.ExportFormat.FHIR: "application/fhir+ndjson",
}


# --- audit log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    role_label: str


@staff_view
@require_GET
@requires_permission(Permission.VIEW_AUDIT_LOG, resource_type=audit_selectors.AUDIT_RESOURCE_TYPE)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _render_audit_log(request, form, page=None, status=400)
    audit_filter = form.to_filter()
    page = audit_selectors.page_of_events(
        audit_filter, before=form.cleaned_data["before"], after=form.cleaned_data["after"]
    )
    record_log_view(
        actor=actor_from_request(request), audit_filter=audit_filter, row_count=len(page.events)
    )
    return _render_audit_log(request, form, page=page)


def _render_audit_log(
    request: HttpRequest,
    form: AuditFilterForm,
    *,
    page: audit_selectors.AuditPage | None,
    status: int = 200,
) -> HttpResponse:
    filter_query = _query_without(request, AuditFilterForm.PAGING_FIELDS)
    log_url = reverse("platform:audit_log")
    context: dict[str, Any] = {
        "form": form,
        "rows": [],
        "filter_query": filter_query,
        "without_patient_url": _page_url(
            log_url, _query_without(request, (*AuditFilterForm.PAGING_FIELDS, "patient"))
        ),
        "newest_url": f"{log_url}?{filter_query}" if filter_query else log_url,
        "newer_url": None,
        "older_url": None,
    }
    if page is not None:
        context["rows"] = [
            AuditRow(event=event, role_label=_ROLE_LABELS.get(event.actor_role, event.actor_role))
            for event in page.events
        ]
        if page.newer_cursor is not None:
            context["newer_url"] = _page_url(log_url, filter_query, after=page.newer_cursor)
        if page.older_cursor is not None:
            context["older_url"] = _page_url(log_url, filter_query, before=page.older_cursor)
    return render(request, "platform/audit_log.html", context, status=status)


def _query_without(request: HttpRequest, names: tuple[str, ...]) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _page_url(base: str, filter_query: str, **cursor: int) -> str:
    """``base`` with the filter (and a page cursor), or ``base`` alone."""
    query = "&".join(part for part in (filter_query, urlencode(cursor)) if part)
    return f"{base}?{query}" if query else base


@staff_view
@require_GET
@requires_permission(Permission.EXPORT_AUDIT_LOG, resource_type=audit_selectors.AUDIT_RESOURCE_TYPE)
def audit_export_csv(request: HttpRequest) -> HttpResponseBase:
    return _stream_export(request, audit_export.ExportFormat.CSV)


@staff_view
@require_GET
@requires_permission(Permission.EXPORT_AUDIT_LOG, resource_type=audit_selectors.AUDIT_RESOURCE_TYPE)
def audit_export_fhir(request: HttpRequest) -> HttpResponseBase:
    return _stream_export(request, audit_export.ExportFormat.FHIR)


def _stream_export(request: HttpRequest, export_format: str) -> HttpResponseBase:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _render_audit_log(request, form, page=None, status=400)
    export = audit_export.start_export(
        actor=actor_from_request(request),
        audit_filter=form.to_filter(),
        export_format=export_format,
    )
    response = StreamingHttpResponse(
        audit_export.export_lines(export), content_type=_EXPORT_CONTENT_TYPES[export_format]
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


# --- break-glass review -------------------------------------------------------------------


@dataclass(frozen=True)
class BreakGlassRow:
    access: BreakGlassAccess
    form: BreakGlassReviewForm


@staff_view
@require_GET
@requires_permission(Permission.REVIEW_BREAK_GLASS, resource_type="BreakGlassAccess")
def break_glass_review(request: HttpRequest) -> HttpResponse:
    return _render_break_glass_review(request)


@staff_view
@require_POST
@requires_permission(Permission.REVIEW_BREAK_GLASS, resource_type="BreakGlassAccess")
def break_glass_mark_reviewed(request: HttpRequest, access_id: uuid.UUID) -> HttpResponse:
    form = BreakGlassReviewForm(request.POST, auto_id=_form_id(access_id))
    if not form.is_valid():
        return _render_break_glass_review(request, failed=(access_id, form), status=400)
    access = review_break_glass(
        actor=actor_from_request(request), access_id=access_id, note=form.cleaned_data["note"]
    )
    messages.success(request, f"Break-glass access by {access.user.username} marked reviewed.")
    return redirect("platform:break_glass_review")


def _render_break_glass_review(
    request: HttpRequest,
    *,
    failed: tuple[uuid.UUID, BreakGlassReviewForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    queue = get_break_glass_queue()
    pending, reviewed = queue.pending, queue.reviewed
    record_break_glass_queue_view(
        actor=actor_from_request(request), pending=len(pending), reviewed=len(reviewed)
    )
    rows = [BreakGlassRow(access=access, form=_review_form(access, failed)) for access in pending]
    context = {
        "pending_rows": rows,
        "pending_total": queue.pending_total,
        "reviewed": reviewed,
    }
    return render(request, "platform/break_glass_review.html", context, status=status)


def _review_form(
    access: BreakGlassAccess, failed: tuple[uuid.UUID, BreakGlassReviewForm] | None
) -> BreakGlassReviewForm:
    if failed is not None and failed[0] == access.public_id:
        return failed[1]
    return BreakGlassReviewForm(auto_id=_form_id(access.public_id))


def _form_id(access_id: uuid.UUID) -> str:
    return f"id_%s_{access_id}"


# --- where a role starts ------------------------------------------------------------------


@staff_view
@require_GET
def home(request: HttpRequest) -> HttpResponseBase:
    """The first page of the user's work, or a home page saying what her role can do here."""
    pages = navigation_for(request.user)
    workspaces = [page for page in pages if page.is_workspace]
    if workspaces:
        return redirect(workspaces[0].url)
    role = request.user.role if isinstance(request.user, User) else ""
    context = {
        "role_label": _ROLE_LABELS.get(role, role),
        "upcoming": upcoming_work(role),
        "tools": pages,
    }
    return render(request, "platform/home.html", context)


# --- a form whose CSRF token failed -------------------------------------------------------


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF refusal, as one more audited refusal (counted when anonymous).

    The API's session check (ninja) goes through here too; the API then answers its own
    ``csrf_failed`` error, so the refusal is recorded once, here, on the right channel.
    """
    error = PermissionDenied(
        "This form has expired or did not come from Careline. Reload the page and try again.",
        code="csrf_failed",
    )
    match = getattr(request, "resolver_match", None)
    is_api = match is not None and match.namespace == "api"
    channel = AuditChannel.API if is_api else AuditChannel.UI
    if request.user.is_authenticated:
        refuse(actor_from_request(request, channel=channel), error, resource_type="Session")
    else:
        count_anonymous_refusal(request, channel=channel)
    return render_error(request, error)


@csrf_exempt  # it changes nothing and sends nothing, whatever is posted
def password_reset_off(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Every password-reset address: staff accounts are managed by an administrator."""
    return render_error(
        request,
        NotFound(
            "Staff passwords are reset by your administrator: ask them to set a new one for you."
        ),
    )
