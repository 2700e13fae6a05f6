"""Forms of the staff Waitlist page."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms

from careline.platform.errors import ValidationFailed
from careline.scheduling.waitlist.models import RemovedReason, WaitlistPriority


class ServiceForm(forms.Form):
    def add_service_error(self, error: ValidationFailed) -> None:
        """Show a service's refusal next to the field it names (or on top)."""
        details = error.details if isinstance(error.details, dict) else {}
        field = details.get("field")
        self.add_error(field if field in self.fields else None, error.message)


Choices = dict[str, list[tuple[str, str]]]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


class FilterForm(forms.Form):
    visit_type = forms.TypedChoiceField(
        required=False, choices=(), coerce=uuid.UUID, empty_value=None
    )
    location = forms.TypedChoiceField(
        required=False, choices=(), coerce=uuid.UUID, empty_value=None
    )

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "visit_type", [("", "All"), *choices["visit_types"]])
        _set_choices(self, "location", [("", "All"), *choices["locations"]])


class JoinForm(ServiceForm):
    patient_id = forms.UUIDField(
        label="Patient id", help_text="From the patient's page (the 360 view's address)."
    )
    visit_type_id = forms.TypedChoiceField(label="Visit type", choices=(), coerce=uuid.UUID)
    location_id = forms.TypedChoiceField(
        label="Location", required=False, choices=(), coerce=uuid.UUID, empty_value=None
    )
    earliest_date = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    latest_date = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    earliest_time = forms.TimeField(
        label="Not before", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    latest_time = forms.TimeField(
        label="Ends by", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    priority = forms.TypedChoiceField(
        choices=WaitlistPriority.choices, coerce=int, initial=WaitlistPriority.ROUTINE
    )
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "visit_type_id", choices["visit_types"])
        _set_choices(self, "location_id", [("", "Any"), *choices["locations"]])


class RemoveForm(forms.Form):
    reason = forms.ChoiceField(choices=RemovedReason.choices)
