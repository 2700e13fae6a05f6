"""Forms that parse what staff type in the patient UI; the services validate the rest.

A service's ``ValidationFailed`` names the field it is about (``details["field"]``);
``ServiceForm.add_service_error`` shows its message next to that field.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Self

from django import forms
from django.utils import timezone

from careline.patients.models import (
    Channel,
    CommunicationPreference,
    ConsentPurpose,
    ConsentStatus,
    ContactSystem,
    ContactUse,
    TimelineKind,
)
from careline.platform.errors import ValidationFailed

OTHER_LANGUAGE = "other"
# Languages most often preferred by US patients (BCP-47), then "other" for any code.
COMMON_LANGUAGES = (
    ("en", "English"),
    ("es", "Spanish"),
    ("zh", "Chinese"),
    ("vi", "Vietnamese"),
    ("ko", "Korean"),
    ("tl", "Tagalog"),
    ("ru", "Russian"),
    ("ar", "Arabic"),
    ("ht", "Haitian Creole"),
    ("fr", "French"),
    ("pt", "Portuguese"),
    ("pt-BR", "Portuguese (Brazil)"),
    ("pl", "Polish"),
    ("hi", "Hindi"),
    ("bn", "Bengali"),
    ("so", "Somali"),
    ("am", "Amharic"),
    ("fa", "Persian"),
    ("uk", "Ukrainian"),
    ("ja", "Japanese"),
    ("ase", "American Sign Language"),
)
COMMON_TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_BLANK = ("", "—")


class ServiceForm(forms.Form):
    def add_service_error(self, error: ValidationFailed) -> None:
        """Show a service's validation message next to the field it names (or on top)."""
        details = error.details if isinstance(error.details, dict) else {}
        field = details.get("field")
        self.add_error(field if field in self.fields else None, error.message)

    def service_arguments(self) -> dict[str, Any]:
        """The keyword arguments of the service this form feeds (its cleaned data)."""
        return dict(self.cleaned_data)


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient",
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "autofocus": True,
                "spellcheck": "false",
                "placeholder": "Name, date of birth, phone or MRN",
            }
        ),
    )


class BreakGlassForm(ServiceForm):
    reason = forms.CharField(
        label="Reason for access",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with your name and reviewed by compliance.",
    )


class ContactPointForm(ServiceForm):
    system = forms.ChoiceField(label="Type", choices=ContactSystem.choices)
    value = forms.CharField(label="Number or address", max_length=254)
    use = forms.ChoiceField(label="Use", choices=[_BLANK, *ContactUse.choices], required=False)


class ContactPointUpdateForm(ServiceForm):
    value = forms.CharField(label="Number or address", max_length=254)
    use = forms.ChoiceField(label="Use", choices=[_BLANK, *ContactUse.choices], required=False)


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class CommunicationPreferenceForm(ServiceForm):
    preferred_channel = forms.ChoiceField(
        label="Preferred channel", choices=[_BLANK, *Channel.choices], required=False
    )
    language = forms.ChoiceField(
        label="Language",
        choices=[_BLANK, *COMMON_LANGUAGES, (OTHER_LANGUAGE, "Other (type the code)")],
        required=False,
    )
    language_other = forms.CharField(
        label="Other language (BCP-47 code)",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. yue, so, zh-Hant"}),
    )
    quiet_hours_start = forms.TimeField(label="Quiet from", required=False, widget=_time_input())
    quiet_hours_end = forms.TimeField(label="Quiet until", required=False, widget=_time_input())
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": "time-zones", "placeholder": "America/New_York"}),
    )
    common_time_zones = COMMON_TIME_ZONES

    @classmethod
    def for_preference(cls, preference: CommunicationPreference | None) -> Self:
        """The form filled in with the patient's current preferences."""
        if preference is None:
            return cls()
        language = preference.language
        known = {code for code, _ in COMMON_LANGUAGES}
        return cls(
            initial={
                "preferred_channel": preference.preferred_channel,
                "language": language if language in known or not language else OTHER_LANGUAGE,
                "language_other": "" if language in known else language,
                "quiet_hours_start": preference.quiet_hours_start,
                "quiet_hours_end": preference.quiet_hours_end,
                "time_zone": preference.time_zone,
            }
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("language") == OTHER_LANGUAGE:
            other = (cleaned.get("language_other") or "").strip()
            if not _LANGUAGE_TAG.match(other):
                self.add_error("language_other", "Type a language code such as yue or zh-Hant.")
            cleaned["language"] = other
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "preferred_channel": data["preferred_channel"],
            "language": data["language"],
            "quiet_hours_start": data["quiet_hours_start"],
            "quiet_hours_end": data["quiet_hours_end"],
            "time_zone": data["time_zone"],
        }


class ConsentForm(ServiceForm):
    purpose = forms.ChoiceField(label="Purpose", choices=ConsentPurpose.choices)
    status = forms.ChoiceField(label="Decision", choices=ConsentStatus.choices)
    description = forms.CharField(label="Note", max_length=300, required=False)


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind", choices=[("", "All kinds"), *TimelineKind.choices], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # Checked by ``list_timeline`` (a malformed one is refused there, with its own message).
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def kinds(self) -> list[str] | None:
        kind = self.cleaned_data.get("kind")
        return [kind] if kind else None

    def window(self) -> tuple[datetime | None, datetime | None]:
        """[since, until) as aware datetimes in the clinic's time zone."""
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        start = _start_of(since) if since else None
        end = _start_of(until + timedelta(days=1)) if until else None
        return start, end

    def page_cursor(self) -> str | None:
        """Where the "older" link resumes (``TimelinePage.next_cursor``); None: the first page."""
        return self.cleaned_data.get("cursor") or None

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for the "older" link)."""
        data = self.cleaned_data
        return {
            name: value.isoformat() if hasattr(value, "isoformat") else str(value)
            for name, value in (
                ("kind", data.get("kind")),
                ("since", data.get("since")),
                ("until", data.get("until")),
            )
            if value
        }


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
