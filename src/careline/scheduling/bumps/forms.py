"""Forms of the Flagged appointments page: the filter, and the three resolutions."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.platform.errors import ValidationFailed
from careline.scheduling.bumps.models import BumpReason

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class FlagFilterForm(forms.Form):
    """GET parameters: a provider and/or a day (both optional)."""

    practitioner = forms.UUIDField(label="Provider", required=False)
    day = forms.DateField(label="Day", required=False, widget=DATE_INPUT)

    def __init__(self, data: Any = None, *, practitioners: list[tuple[str, str]]) -> None:
        super().__init__(data)
        self.fields["practitioner"].widget = forms.Select(
            choices=[("", "Every provider"), *practitioners]
        )


class ServiceErrorForm(forms.Form):
    def add_service_error(self, error: ValidationFailed) -> None:
        """Show a service's refusal next to the field it names (or on top)."""
        details = error.details if isinstance(error.details, dict) else {}
        field = details.get("field")
        self.add_error(field if field in self.fields else None, error.message)


class BumpForm(ServiceErrorForm):
    reason = forms.ChoiceField(label="Reason", choices=BumpReason.choices)
    note = forms.CharField(label="Note", max_length=300, required=False, strip=True)
    add_to_waitlist = forms.BooleanField(
        label="Put the patient on the waitlist (priority high)", required=False
    )


class KeepForm(ServiceErrorForm):
    reason = forms.CharField(
        label="Why the visit is kept",
        max_length=300,
        strip=True,
        error_messages={
            "required": "Say why the visit is kept (e.g. the provider will see the patient anyway)."
        },
    )


class FlagRescheduleForm(ServiceErrorForm):
    """The new slot picked from the search (hidden fields of a slot row) and a note."""

    practitioner = forms.UUIDField(widget=forms.HiddenInput)
    location = forms.UUIDField(widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    note = forms.CharField(label="Note", max_length=300, required=False, strip=True)
