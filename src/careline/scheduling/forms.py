"""Forms of the scheduling pages a scheduler and a front desk use: the slot search, a slot
to hold or book, the safety screen's answers, cancel and reschedule, the day list.

They parse; the services judge (every rule lives in ``scheduling``). A service's
``ValidationFailed`` naming a field is shown next to it (``add_service_error``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from careline.platform.errors import ValidationFailed
from careline.scheduling.models import CancelReason
from careline.scheduling.slot_search import MAX_RANGE_DAYS

GENDERS = (("", "Any"), ("female", "Female"), ("male", "Male"), ("other", "Other"))
DEFAULT_RANGE_DAYS = 30
DATE_INPUT = forms.DateInput(attrs={"type": "date"})
TICKET_WINDOW_WEEKS = (2, 4)  # the usual "follow-up within 2 to 4 weeks"


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    """Give a choice field its choices (known only when the form is made)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field.")
    field.choices = choices


def _field_error(form: forms.Form, error: ValidationFailed) -> None:
    details = error.details if isinstance(error.details, dict) else {}
    field = details.get("field") or details.get("parameter")
    form.add_error(field if field in form.fields else None, error.message)


class SlotSearchForm(forms.Form):
    """The Schedule page's search. A place may be the patient's address, so the page POSTs
    it (never in a URL); links back to the page carry only ids and dates (GET)."""

    patient = forms.UUIDField(widget=forms.HiddenInput)
    visit_type = forms.ChoiceField(label="Visit type")
    location = forms.MultipleChoiceField(
        label="Locations",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every location.",
    )
    place = forms.CharField(
        label="Near (ZIP or address)",
        max_length=300,
        required=False,
        strip=True,
        help_text="Nearest locations first, with the distance.",
    )
    near_patient = forms.BooleanField(label="Near the patient's home", required=False)
    date_from = forms.DateField(label="From", widget=DATE_INPUT)
    date_to = forms.DateField(label="To", widget=DATE_INPUT)
    language = forms.RegexField(
        label="Provider speaks",
        regex=r"^[A-Za-z-]*$",
        max_length=20,
        required=False,
        help_text="A language code, e.g. es or zh.",
        error_messages={"invalid": "Give a language code such as es, zh or pt-BR."},
    )
    gender = forms.ChoiceField(label="Provider gender", choices=GENDERS, required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        visit_types: list[tuple[str, str]],
        locations: list[tuple[str, str]],
        today: date,
    ) -> None:
        super().__init__(
            data,
            initial={"date_from": today, "date_to": today + timedelta(days=DEFAULT_RANGE_DAYS)},
        )
        set_choices(self, "visit_type", [("", "Choose a visit type"), *visit_types])
        set_choices(self, "location", locations)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and not start <= end:
            self.add_error("date_to", "The last day is before the first.")
        elif start and end and (end - start).days >= MAX_RANGE_DAYS:
            self.add_error("date_to", f"Search at most {MAX_RANGE_DAYS} days at a time.")
        if cleaned.get("place") and cleaned.get("near_patient"):
            self.add_error("place", "Give a ZIP or an address, or tick the patient's home.")
        return cleaned

    add_service_error = _field_error


class SlotForm(forms.Form):
    """One slot, as the search offered it, for a patient (hidden fields of a result row)."""

    patient = forms.UUIDField(widget=forms.HiddenInput)
    visit_type = forms.UUIDField(widget=forms.HiddenInput)
    practitioner = forms.UUIDField(widget=forms.HiddenInput)
    location = forms.UUIDField(widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)


class BookForm(SlotForm):
    """Book a held slot (or, with a reason and the permission, overbook a taken time)."""

    hold = forms.UUIDField(required=False, widget=forms.HiddenInput)
    overbook_reason = forms.CharField(
        label="Overbook reason", max_length=300, required=False, strip=True
    )

    def __init__(
        self, data: Any = None, *, visit_type: Any, red_flags: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.visit_type = visit_type
        self.red_flags = red_flags
        self.question_codes: list[str] = red_flags.question_codes if red_flags else []
        question_codes = self.question_codes
        for code in question_codes:
            self.fields[f"screen_{code}"] = forms.ChoiceField(
                choices=(("no", "No"), ("yes", "Yes")),
                widget=forms.RadioSelect,
                required=False,
            )

    def safety_answers(self) -> dict[str, bool] | None:
        """The answers given; None when any is missing (the service then asks again)."""
        answers = {code: self.cleaned_data.get(f"screen_{code}") for code in self.question_codes}
        if not self.question_codes or any(value not in {"yes", "no"} for value in answers.values()):
            return None
        return {code: value == "yes" for code, value in answers.items()}


class OverbookForm(forms.Form):
    """A time the search does not offer (taken), booked on top with a reason."""

    patient = forms.UUIDField(widget=forms.HiddenInput)
    visit_type = forms.UUIDField(widget=forms.HiddenInput)
    practitioner = forms.ChoiceField(label="Provider")
    location = forms.ChoiceField(label="Location")
    starts_at = forms.DateTimeField(
        label="Start", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    overbook_reason = forms.CharField(label="Reason", max_length=300, strip=True)


class TicketForm(forms.Form):
    """Staff let the patient book one visit herself on the portal within a window ("book a
    follow-up within 2 to 4 weeks")."""

    patient = forms.UUIDField(widget=forms.HiddenInput)
    visit_type = forms.ChoiceField(label="Visit type")
    earliest_date = forms.DateField(label="From", widget=DATE_INPUT)
    latest_date = forms.DateField(label="To", widget=DATE_INPUT)
    note = forms.CharField(label="Note for the patient", max_length=300, required=False)

    def __init__(
        self, data: Any = None, *, visit_types: list[tuple[str, str]], today: date, **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                "earliest_date": today + timedelta(weeks=TICKET_WINDOW_WEEKS[0]),
                "latest_date": today + timedelta(weeks=TICKET_WINDOW_WEEKS[1]),
            },
        )
        super().__init__(data, **kwargs)
        set_choices(self, "visit_type", [("", "Choose a visit type"), *visit_types])

    add_service_error = _field_error


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=CancelReason.choices)
    note = forms.CharField(label="Note", max_length=300, required=False, strip=True)

    add_service_error = _field_error


class RescheduleForm(forms.Form):
    """The new slot picked from the search, and why the old one goes."""

    practitioner = forms.UUIDField(widget=forms.HiddenInput)
    location = forms.UUIDField(widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(label="Reason", choices=CancelReason.choices)
    note = forms.CharField(label="Note", max_length=300, required=False, strip=True)


class DayForm(forms.Form):
    """GET parameters of the day list."""

    day = forms.DateField(label="Day", required=False, widget=DATE_INPUT)
    location = forms.UUIDField(label="Location", required=False)
    practitioner = forms.UUIDField(label="Provider", required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        locations: list[tuple[str, str]],
        practitioners: list[tuple[str, str]],
    ) -> None:
        super().__init__(data)
        self.fields["location"].widget = forms.Select(choices=[("", "Every location"), *locations])
        self.fields["practitioner"].widget = forms.Select(
            choices=[("", "Every provider"), *practitioners]
        )
