"""Forms of the configuration pages (administrators): visit types, availability templates
with their blocks, exceptions, provider rules and red-flag lists.

Each turns what a person types into the arguments of one ``scheduling.configuration`` (or
``directory.visit_types``) service, with messages that say what to type; a service's own
``ValidationFailed`` is put next to the field it names.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from typing import Any, ClassVar

from django import forms
from django.utils import timezone

from careline.directory.visit_types import Modality, PatientStatus, PortalBooking
from careline.platform.errors import ValidationFailed
from careline.scheduling.configuration import BlockIn
from careline.scheduling.forms import set_choices
from careline.scheduling.models import BlockKind, ExceptionKind, PartOfDay, RuleKind, Weekday

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_LIST_SPLIT = re.compile(r"[,\n]")


def _texts(value: str) -> list[str]:
    return [item.strip() for item in _LIST_SPLIT.split(value or "") if item.strip()]


class ConfigForm(forms.Form):
    def add_service_error(self, error: ValidationFailed) -> None:
        details = error.details if isinstance(error.details, dict) else {}
        field = details.get("field")
        field = self.field_aliases.get(field, field) if isinstance(field, str) else None
        self.add_error(field if field in self.fields else None, error.message)

    field_aliases: ClassVar[dict[str, str]] = {}


def _choices(rows: list[tuple[str, str]], blank: str | None = None) -> list[tuple[str, str]]:
    return [("", blank), *rows] if blank is not None else rows


class VisitTypeForm(ConfigForm):
    code = forms.SlugField(max_length=64, help_text="Short id, e.g. flu-shot. Fixed once saved.")
    name = forms.CharField(max_length=200)
    specialty = forms.CharField(
        max_length=200, required=False, help_text="Who offers it; blank: any provider."
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=1, max_value=720)
    modality = forms.ChoiceField(choices=Modality.choices)
    min_age_years = forms.IntegerField(
        label="Minimum age", min_value=0, max_value=150, required=False
    )
    max_age_years = forms.IntegerField(
        label="Maximum age", min_value=0, max_value=150, required=False
    )
    allowed_sexes = forms.MultipleChoiceField(
        label="Sexes",
        choices=(("female", "Female"), ("male", "Male"), ("other", "Other")),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any.",
    )
    patient_status = forms.ChoiceField(label="Who may book", choices=PatientStatus.choices)
    referral_required = forms.BooleanField(required=False)
    accepted_payers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line; blank: any.",
    )
    preparation_instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    requires_safety_screen = forms.BooleanField(required=False)
    safety_screen_code = forms.ChoiceField(label="Safety screen", required=False)
    portal_booking = forms.ChoiceField(label="On the portal", choices=PortalBooking.choices)
    minimum_notice_minutes = forms.IntegerField(label="Minimum notice (minutes)", min_value=0)
    same_day_cutoff = forms.TimeField(label="Same-day cutoff", required=False, widget=TIME_INPUT)
    maximum_horizon_days = forms.IntegerField(
        label="Bookable up to (days ahead)", min_value=1, max_value=3650
    )
    buffer_before_minutes = forms.IntegerField(
        label="Buffer before (minutes)", min_value=0, max_value=240
    )
    buffer_after_minutes = forms.IntegerField(
        label="Buffer after (minutes)", min_value=0, max_value=240
    )
    capacity = forms.IntegerField(min_value=1, max_value=500, help_text="Above 1: a group visit.")
    required_resource_kinds = forms.CharField(
        label="Rooms or devices",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One kind per line, e.g. CT scanner.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, red_flag_codes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "safety_screen_code", _choices(red_flag_codes, "None"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_age_years"), cleaned.get("max_age_years")
        if low is not None and high is not None and low > high:
            self.add_error("max_age_years", "The maximum age is below the minimum age.")
        if cleaned.get("requires_safety_screen") and not cleaned.get("safety_screen_code"):
            self.add_error("safety_screen_code", "Choose the red-flag list the screen asks.")
        return cleaned

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("accepted_payers", "required_resource_kinds"):
            data[name] = _texts(data[name])
        data["allowed_sexes"] = list(data["allowed_sexes"])
        return data

    @staticmethod
    def initial_from(visit_type: Any) -> dict[str, Any]:
        initial = {name: getattr(visit_type, name) for name in VisitTypeForm.base_fields}
        for name in ("accepted_payers", "required_resource_kinds"):
            initial[name] = "\n".join(initial[name])
        return initial


class TemplateForm(ConfigForm):
    """A weekly session; blocks one per line: ``break 12:00-12:30`` or
    ``reserved 09:00-10:00 [visit-type-code] [release N]``."""

    practitioner = forms.ChoiceField(label="Provider")
    location = forms.ChoiceField()
    weekdays = forms.TypedMultipleChoiceField(
        label="Days", choices=Weekday.choices, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start_time = forms.TimeField(label="From", widget=TIME_INPUT)
    end_time = forms.TimeField(label="To", widget=TIME_INPUT)
    slot_minutes = forms.IntegerField(
        label="Slot every (minutes)", min_value=1, max_value=240, initial=15
    )
    effective_from = forms.DateField(label="Effective from", widget=DATE_INPUT)
    effective_to = forms.DateField(label="Last day", required=False, widget=DATE_INPUT)
    visit_types = forms.MultipleChoiceField(
        label="Only these visit types",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any the provider offers.",
    )
    blocks = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "One per line: “break 12:00-12:30”, or “reserved 09:00-10:00 flu-shot release 60” "
            "(visit-type code and release minutes optional)."
        ),
    )
    field_aliases: ClassVar[dict[str, str]] = {"weekday": "weekdays"}

    def __init__(
        self,
        *args: Any,
        practitioners: list[tuple[str, str]],
        locations: list[tuple[str, str]],
        visit_types: list[tuple[str, str]],
        visit_type_codes: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "practitioner", _choices(practitioners, "Choose a provider"))
        set_choices(self, "location", _choices(locations, "Choose a location"))
        set_choices(self, "visit_types", visit_types)
        self.visit_type_codes = visit_type_codes

    @staticmethod
    def initial_from(template: Any) -> dict[str, Any]:
        """The form's values for an existing session (its blocks written back as lines)."""
        blocks = []
        for block in template.blocks.all():
            line = f"{block.kind} {block.start_time:%H:%M}-{block.end_time:%H:%M}"
            if block.visit_type is not None:
                line += f" {block.visit_type.code}"
            if block.release_minutes_before is not None:
                line += f" release {block.release_minutes_before}"
            blocks.append(line)
        return {
            "practitioner": str(template.practitioner.public_id),
            "location": str(template.location.public_id),
            "weekdays": [template.weekday],
            "start_time": template.start_time,
            "end_time": template.end_time,
            "slot_minutes": template.slot_minutes,
            "effective_from": template.effective_from,
            "effective_to": template.effective_to,
            "visit_types": [str(row.public_id) for row in template.visit_types.all()],
            "blocks": "\n".join(blocks),
        }

    def fix_session(self, initial: dict[str, Any]) -> None:
        """Editing: the provider, place and day stay (another day is another session)."""
        for name in ("practitioner", "location", "weekdays"):
            self.fields[name].disabled = True
            self.initial[name] = initial[name]

    def clean_blocks(self) -> list[BlockIn]:
        return [
            self._block(number, line)
            for number, line in enumerate(
                (line.strip() for line in self.cleaned_data["blocks"].splitlines()), start=1
            )
            if line
        ]

    def _block(self, number: int, line: str) -> BlockIn:
        match = re.fullmatch(
            r"(break|reserved)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})"
            r"(?:\s+([a-z0-9_-]+?))?(?:\s+release\s+(\d+))?",
            line.casefold(),
        )
        if match is None:
            raise forms.ValidationError(
                f"Line {number} reads “{line}”: write “break 12:00-12:30” or "
                "“reserved 09:00-10:00 flu-shot release 60”."
            )
        kind, start, end, code, release = match.groups()
        try:
            start_at, end_at = time.fromisoformat(start.zfill(5)), time.fromisoformat(end.zfill(5))
        except ValueError as error:
            raise forms.ValidationError(
                f"Line {number}: {start}-{end} is not a time range."
            ) from error
        if code and code not in self.visit_type_codes:
            raise forms.ValidationError(f"Line {number}: no visit type has the code {code!r}.")
        if kind == BlockKind.BREAK and (code or release):
            raise forms.ValidationError(
                f"Line {number}: a break has no visit type or release time."
            )
        return BlockIn(
            kind=kind,
            start=start_at,
            end=end_at,
            visit_type_id=uuid.UUID(self.visit_type_codes[code]) if code else None,
            release_minutes_before=int(release) if release else None,
        )


class ExceptionForm(ConfigForm):
    kind = forms.ChoiceField(choices=ExceptionKind.choices)
    practitioner = forms.ChoiceField(label="Provider", required=False, help_text="Blank: everyone.")
    location = forms.ChoiceField(required=False, help_text="Blank: every location.")
    starts_at = forms.DateTimeField(label="From", widget=DATETIME_INPUT)
    ends_at = forms.DateTimeField(label="Until", widget=DATETIME_INPUT)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(
        self,
        *args: Any,
        practitioners: list[tuple[str, str]],
        locations: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "practitioner", _choices(practitioners, "Everyone"))
        set_choices(self, "location", _choices(locations, "Every location"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("starts_at"), cleaned.get("ends_at")
        if isinstance(start, datetime) and isinstance(end, datetime) and not start < end:
            self.add_error("ends_at", "The end is not after the start.")
        for name in ("starts_at", "ends_at"):
            value = cleaned.get(name)
            if isinstance(value, datetime) and timezone.is_naive(value):
                cleaned[name] = timezone.make_aware(value)
        return cleaned


class ProviderRuleForm(ConfigForm):
    practitioner = forms.ChoiceField(label="Provider")
    kind = forms.ChoiceField(label="Rule", choices=RuleKind.choices)
    number = forms.IntegerField(
        label="Number",
        min_value=0,
        max_value=150,
        required=False,
        help_text="At most N new patients: N. Minimum or maximum age: the years.",
    )
    payers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only these payers: one per line.",
    )
    visit_type = forms.ChoiceField(label="Visit type", required=False)
    weekday = forms.TypedChoiceField(
        label="Day",
        choices=[("", "Every day"), *Weekday.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    part_of_day = forms.ChoiceField(label="Part of the day", choices=PartOfDay.choices)
    description = forms.CharField(max_length=200, required=False)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    field_aliases: ClassVar[dict[str, str]] = {"parameters": "number"}

    def __init__(
        self,
        *args: Any,
        practitioners: list[tuple[str, str]],
        visit_types: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "practitioner", _choices(practitioners, "Choose a provider"))
        set_choices(self, "visit_type", _choices(visit_types, "Every visit type"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, number = cleaned.get("kind"), cleaned.get("number")
        if kind == RuleKind.MAX_NEW_PER_SESSION and (number is None or number > 100):
            self.add_error("number", "Give the most new patients per session, 0 to 100.")
        elif kind in {RuleKind.MIN_AGE, RuleKind.MAX_AGE} and number is None:
            self.add_error("number", "Give the age in years, 0 to 150.")
        elif kind == RuleKind.PAYERS_ONLY and not _texts(cleaned.get("payers", "")):
            self.add_error("payers", "Name at least one payer, one per line.")
        return cleaned

    def parameters(self) -> dict[str, Any]:
        kind, number = self.cleaned_data["kind"], self.cleaned_data.get("number")
        if kind == RuleKind.MAX_NEW_PER_SESSION:
            return {"max": number}
        if kind in {RuleKind.MIN_AGE, RuleKind.MAX_AGE}:
            return {"years": number}
        if kind == RuleKind.PAYERS_ONLY:
            return {"payers": _texts(self.cleaned_data["payers"])}
        return {}

    @staticmethod
    def initial_from(rule: Any) -> dict[str, Any]:
        parameters = rule.parameters or {}
        return {
            "practitioner": str(rule.practitioner.public_id),
            "kind": rule.kind,
            "number": parameters.get("max", parameters.get("years")),
            "payers": "\n".join(parameters.get("payers", [])),
            "visit_type": str(rule.visit_type.public_id) if rule.visit_type else "",
            "weekday": rule.weekday,
            "part_of_day": rule.part_of_day,
            "description": rule.description,
            "is_active": rule.is_active,
        }


class RedFlagListForm(ConfigForm):
    code = forms.SlugField(
        max_length=64, help_text="Short id the visit types name. Fixed once saved."
    )
    name = forms.CharField(max_length=200)
    questions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line: “code: question?”, e.g. “chest_pain: Do you have chest pain now?”",
    )
    advice = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What to do after a yes: the nurse line, emergency advice.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def clean_questions(self) -> list[dict[str, str]]:
        questions = []
        for number, line in enumerate(self.cleaned_data["questions"].splitlines(), start=1):
            if not line.strip():
                continue
            code, colon, text = line.partition(":")
            if not colon or not re.fullmatch(r"[a-z0-9_-]+", code.strip()) or not text.strip():
                raise forms.ValidationError(
                    f"Line {number} reads “{line.strip()}”: write “code: question?” with a "
                    "code of lower-case letters, digits, - or _."
                )
            questions.append({"code": code.strip(), "text": text.strip()})
        if not questions:
            raise forms.ValidationError("Give at least one question.")
        if len({question["code"] for question in questions}) != len(questions):
            raise forms.ValidationError("Each question needs its own code.")
        return questions

    @staticmethod
    def initial_from(red_flags: Any) -> dict[str, Any]:
        return {
            "code": red_flags.code,
            "name": red_flags.name,
            "questions": "\n".join(
                f"{q.get('code')}: {q.get('text')}" for q in red_flags.questions
            ),
            "advice": red_flags.advice,
            "is_active": red_flags.is_active,
        }
