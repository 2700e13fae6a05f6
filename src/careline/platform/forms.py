"""Forms of the compliance pages: the audit-log filter and the break-glass review note."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.platform.audit.selectors import AuditFilter
from careline.platform.models import AuditAction, AuditChannel, AuditOutcome


def _any(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "Any"), *choices]


class AuditFilterForm(forms.Form):
    """GET parameters of the audit log; none of them is PHI (ids, names of staff, dates)."""

    actor = forms.CharField(label="User", max_length=150, required=False)
    action = forms.ChoiceField(choices=_any(AuditAction.choices), required=False)
    # Chosen with the patient picker (by name, birth date or MRN), or the 360 page's link.
    patient = forms.UUIDField(label="Patient", required=False, widget=forms.HiddenInput)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ChoiceField(choices=_any(AuditChannel.choices), required=False)
    outcome = forms.ChoiceField(choices=_any(AuditOutcome.choices), required=False)
    break_glass = forms.BooleanField(
        label="Break-glass",
        required=False,
        widget=forms.Select(choices=[("", "Any"), ("on", "Only break-glass")]),
    )
    # Keyset paging: the page above / below a sequence number.
    before = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    after = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    PAGING_FIELDS = ("before", "after")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        if cleaned.get("before") and cleaned.get("after"):
            raise forms.ValidationError("Ask for the page before or after an entry, not both.")
        return cleaned

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            actor=data["actor"].strip(),
            action=data["action"],
            patient_id=data["patient"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            channel=data["channel"],
            outcome=data["outcome"],
            break_glass_only=data["break_glass"],
        )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label="Review note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you checked and what you concluded.",
    )
