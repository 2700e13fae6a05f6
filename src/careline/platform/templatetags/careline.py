"""Display filters for staff templates: ages, language names, provenance lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from urllib.parse import urlsplit

from django import template
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

from careline.platform.http import local_today

register = template.Library()

CARELINE_SOURCE_LABEL = "Careline"


class _HasAge(Protocol):
    def age_on(self, day: date) -> int | None: ...


def years_between(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


@register.filter
def age(value: date | _HasAge | None) -> int | None:
    """Age in whole years of a birth date, or of a patient (at death when deceased)."""
    if value is None:
        return None
    if isinstance(value, date):
        return years_between(value, local_today())
    return value.age_on(local_today())


@register.filter
def language_label(code: str | None) -> str:
    """``es`` → ``Spanish (es)``; an unknown code is shown as it is."""
    if not code:
        return ""
    try:
        name = translation.get_language_info(code.lower())["name"]
    except KeyError:
        return code
    return f"{name} ({code})"


@register.filter
def source_label(source_system: str | None) -> str:
    """A source system for people to read: Careline's own, a URL's host, or the name."""
    if not source_system or source_system == "careline":
        return CARELINE_SOURCE_LABEL
    if source_system.startswith(("http://", "https://")):
        return urlsplit(source_system).netloc or source_system
    return source_system


def short_source_label(source_system: str | None) -> str:
    """The quiet label under a fact: a URN's last part (``urn:…:demo-ehr`` → ``demo-ehr``)."""
    label = source_label(source_system)
    if label.startswith("urn:"):
        return label.rsplit(":", 1)[-1] or label
    return label


@register.simple_tag
def provenance(
    source_system: str | None,
    received_at: datetime | None,
    verb: str = "received",
    source_id: str = "",
) -> SafeString:
    """Where a fact came from, quietly: a short source label under the fact; the full line
    (source system, source id, time) on hover or keyboard focus, and always to screen readers.
    """
    full = format_html("Source: {}", source_label(source_system))
    if source_id:
        full = format_html("{} · id {}", full, source_id)
    if received_at is not None:
        local = timezone.localtime(received_at)
        full = format_html(
            '{} · {} <time datetime="{}">{}</time>',
            full,
            verb,
            local.isoformat(timespec="minutes"),
            local.strftime("%Y-%m-%d %H:%M"),
        )
    return format_html(
        '<span class="provenance" tabindex="0">'
        '<span class="provenance__label" aria-hidden="true">{}</span>'
        '<span class="provenance__full">{}</span></span>',
        short_source_label(source_system),
        full,
    )


@register.filter
def startswith(value: str, prefix: str) -> bool:
    return bool(prefix) and str(value).startswith(prefix)
