"""Portal forms: plain fields with labels and help a patient understands."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from careline.platform import clock
from careline.platform.errors import CarelineError
from careline.platform.models import User, UserKind
from careline.portal.models import ProxyScope, Relationship


class SignupForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        help_text="At least 12 characters; not a common password and not only numbers.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords are not the same.")
        elif first and data.get("email"):
            try:
                validate_password(first, User(email=data["email"], kind=UserKind.PORTAL, role=""))
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class LoginForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class ProofForm(forms.Form):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    birth_date = forms.DateField(
        label="Date of birth",
        help_text="For example 1951-03-14.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_birth_date(self) -> date:
        value: date = self.cleaned_data["birth_date"]
        if value > clock.now().date():
            raise ValidationError("A date of birth cannot be in the future.")
        return value


class CodeForm(forms.Form):
    code = forms.CharField(
        label="The 6-digit code from the email",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
        ),
    )


_SCOPE_CHOICES = ProxyScope.choices


class ProxyInvitationForm(forms.Form):
    """The patient invites a caregiver."""

    email = forms.EmailField(label="Their email address", max_length=254)
    scopes = forms.MultipleChoiceField(
        label="What they may do for you",
        choices=_SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[ProxyScope.APPOINTMENTS],
    )
    grant_days = forms.IntegerField(
        label="For how many days", min_value=1, max_value=3660, initial=365
    )


class StaffInvitationForm(forms.Form):
    """Staff invite the patient (an email on file) or a related person marked as a proxy."""

    relationship = forms.ChoiceField(label="Invite", choices=Relationship.choices)
    email = forms.ChoiceField(label="Patient's email on file", required=False)
    related_person = forms.ChoiceField(label="Proxy (caregiver)", required=False)
    scopes = forms.MultipleChoiceField(
        label="Proxy may",
        choices=_SCOPE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    grant_days = forms.IntegerField(
        label="Proxy access for (days)", min_value=1, max_value=3660, required=False, initial=365
    )

    def __init__(
        self, *args: Any, emails: list[str], proxies: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        email_field = self.fields["email"]
        proxy_field = self.fields["related_person"]
        assert isinstance(email_field, forms.ChoiceField)  # noqa: S101 (declared above)
        assert isinstance(proxy_field, forms.ChoiceField)  # noqa: S101
        email_field.choices = [("", "—"), *[(email, email) for email in emails]]
        proxy_field.choices = [("", "—"), *proxies]


# --- booking ----------------------------------------------------------------------------------


class SlotChoiceForm(forms.Form):
    """The slot a patient picked from the list (hidden fields of its button)."""

    practitioner_id = forms.UUIDField()
    location_id = forms.UUIDField()
    starts_at = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M:%S%z"])
    reschedule = forms.UUIDField(required=False)


YES_NO = [("no", "No"), ("yes", "Yes")]


class SafetyScreenForm(forms.Form):
    """One required yes/no question per red flag (the list's own words)."""

    def __init__(self, *args: Any, questions: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in questions:
            self.fields[f"flag_{question.get('code')}"] = forms.ChoiceField(
                label=str(question.get("text", "")),
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": "Answer yes or no."},
            )

    def answers(self) -> dict[str, bool]:
        return {
            name.removeprefix("flag_"): value == "yes"
            for name, value in self.cleaned_data.items()
            if name.startswith("flag_")
        }


class VisitRequestForm(forms.Form):
    preferred_times = forms.CharField(
        label="When suits you?",
        required=False,
        max_length=300,
        help_text='For example "weekday mornings" or "after 3 pm".',
    )
    note = forms.CharField(
        label="Anything the clinic should know?",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CancelForm(forms.Form):
    note = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=300,
        help_text="It helps the clinic offer the time to someone else.",
    )


class WaitlistJoinForm(forms.Form):
    """Join a waitlist: what, where and with whom (optional), which days, which hours.

    Choices come from the caller (the visit types she books herself, the places and
    providers with hours); the rules are the waitlist service's, whose refusals the view
    shows next to the field they name (``add_service_error``)."""

    visit_type_id = forms.TypedChoiceField(label="Visit", choices=(), coerce=uuid.UUID)
    location_id = forms.TypedChoiceField(
        label="Location", required=False, choices=(), coerce=uuid.UUID, empty_value=None
    )
    practitioner_id = forms.TypedChoiceField(
        label="Provider", required=False, choices=(), coerce=uuid.UUID, empty_value=None
    )
    earliest_date = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="The first day."
    )
    latest_date = forms.DateField(
        label="Until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day you could come.",
    )
    earliest_time = forms.TimeField(
        label="Not before",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Leave empty for any time of day.",
    )
    latest_time = forms.TimeField(
        label="Finished by",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Leave empty for any time of day.",
    )

    def __init__(
        self,
        *args: Any,
        visit_types: list[tuple[str, str]],
        locations: list[tuple[str, str]],
        practitioners: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = (
            ("visit_type_id", visit_types),
            ("location_id", [("", "Any location"), *locations]),
            ("practitioner_id", [("", "Any provider"), *practitioners]),
        )
        for name, values in choices:
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared above)
            field.choices = values

    def add_service_error(self, error: CarelineError) -> None:
        """Show the service's refusal next to the field it names (else above the form)."""
        details = error.details if isinstance(error.details, dict) else {}
        field = details.get("field")
        self.add_error(field if field in self.fields else None, error.message)
