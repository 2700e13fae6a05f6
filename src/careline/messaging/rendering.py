"""Template text: named variables (``{first_name}``), a whitelist per channel, and what each
variable reveals.

PHI-minimum (HIPAA): an SMS, email, voice or fax body may only use non-clinical variables;
clinical content (the reason for a visit, care advice) is only ever written in a portal
message, and the SMS/email carries the secure ``{portal_link}`` instead. A location marked
sensitive (a behavioural-health clinic, say) is left out of message text. Whether the result
carries any PHI at all (anything about this patient) is reported, so that the gate keeps it
from adapters without a business associate agreement.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from careline.platform.errors import ValidationFailed

# Variables that say nothing about the patient: always allowed, never PHI.
ORGANISATION_VARIABLES = frozenset({"org_name", "org_phone", "portal_link", "reply_hint"})
# About the patient but not clinical: allowed on every channel; PHI for the BAA rule.
CONTACT_VARIABLES = frozenset(
    {
        "first_name",
        "appointment_date",
        "appointment_time",
        "location_name",
        "location_address",
        "practitioner_name",
        "offer_link",
    }
)
# Clinical: the portal (and chat, inside the portal) only.
CLINICAL_VARIABLES = frozenset(
    {"visit_type", "visit_reason", "preparation", "care_advice", "result_summary"}
)
LOCATION_VARIABLES = frozenset({"location_name", "location_address"})
SENSITIVE_LOCATION_TEXT = "our clinic"

SECURE_CHANNELS = frozenset({"portal", "chat"})


def allowed_variables(channel: str) -> frozenset[str]:
    base = ORGANISATION_VARIABLES | CONTACT_VARIABLES
    return base | CLINICAL_VARIABLES if channel in SECURE_CHANNELS else base


def variables_in(text: str) -> set[str]:
    """The variable names a template text uses; a malformed brace is refused."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise ValidationFailed(
            f"The template text has an unmatched brace: {error}.", details={"field": "body"}
        ) from error


def check_template(*, channel: str, subject: str, body: str) -> None:
    """Refuse a template that uses a variable its channel may not carry (or an unknown one)."""
    used = variables_in(subject) | variables_in(body)
    known = ORGANISATION_VARIABLES | CONTACT_VARIABLES | CLINICAL_VARIABLES
    unknown = sorted(name for name in used if name not in known or not name.isidentifier())
    if unknown:
        raise ValidationFailed(
            f"Unknown template variables: {', '.join(unknown)}.", details={"field": "body"}
        )
    refused = sorted(used - allowed_variables(channel))
    if refused:
        raise ValidationFailed(
            f"{', '.join(refused)} may not appear in a {channel} message (clinical content goes "
            "to the portal; use {portal_link}).",
            details={"field": "body", "variables": refused},
        )


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    has_phi: bool


def render(
    *,
    channel: str,
    subject: str,
    body: str,
    context: Mapping[str, str],
    sensitive_location: bool = False,
) -> Rendered:
    """Fill the variables; a missing one renders empty, a sensitive location generically."""
    check_template(channel=channel, subject=subject, body=body)
    values = {name: str(value) for name, value in context.items()}
    if sensitive_location:
        values["location_name"] = SENSITIVE_LOCATION_TEXT
        values["location_address"] = ""
    used = variables_in(subject) | variables_in(body)
    filled = {name: values.get(name, "") for name in used}
    has_phi = any(name not in ORGANISATION_VARIABLES and filled[name] for name in used)
    return Rendered(
        subject=subject.format_map(filled).strip(),
        body=" ".join(body.format_map(filled).split())
        if channel == "sms"
        else body.format_map(filled).strip(),
        has_phi=has_phi,
    )
