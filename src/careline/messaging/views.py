"""The staff Outbox: every message with its status and the rule that decided it, filtered by
status and channel; one message's page (its text, the sink's copy in demo mode: audited)."""

from __future__ import annotations

import uuid

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.messaging import selectors
from careline.messaging.models import Channel, Status
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.http import staff_view
from careline.platform.permissions import Permission


class OutboxFilter(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)


@staff_view
@require_GET
@requires_permission(Permission.VIEW_MESSAGES, resource_type="Message")
def outbox(request: HttpRequest) -> HttpResponse:
    filters = OutboxFilter(request.GET or None)
    status = channel = ""
    if filters.is_valid():
        status = filters.cleaned_data["status"]
        channel = filters.cleaned_data["channel"]
    messages = selectors.list_outbox(
        actor=actor_from_request(request), status=status, channel=channel
    )
    return render(request, "messaging/outbox.html", {"filters": filters, "messages": messages})


@staff_view
@require_GET
@requires_permission(Permission.VIEW_MESSAGES, resource_type="Message")
def message_detail(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    view = selectors.get_message(actor=actor_from_request(request), message_id=message_id)
    return render(request, "messaging/message.html", {"view": view, "message": view.message})
