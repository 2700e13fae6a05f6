"""The carrier program texts (CTIA Messaging Principles and Best Practices), as defaults in
code: the HELP reply, the STOP confirmation and the opt-in confirmation.

These are what a carrier audit checks: the HELP reply names the program and the organisation,
a contact, the message frequency, "Msg & data rates may apply" and how to stop; the STOP
confirmation says no more texts will come and how to come back; the opt-in confirmation
repeats the program, frequency, rates and the HELP and STOP words. Each is one text (no PHI,
nothing but the organisation's own details) and answers the patient's own message, so it
counts toward no frequency cap. Administrators' templates may replace them later; these stay
the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

RATES_NOTICE = "Msg & data rates may apply."


@dataclass(frozen=True)
class ProgramDetails:
    """Who is texting: ``organisation`` ("Riverside Health"), ``contact`` (a phone number or
    web address a patient can use), ``frequency`` ("Msg frequency varies")."""

    organisation: str
    contact: str
    frequency: str = "Msg frequency varies."
    program: str = "appointment and care texts"


def help_reply(details: ProgramDetails) -> str:
    return (
        f"{details.organisation} {details.program}. Help: {details.contact}. "
        f"{details.frequency} {RATES_NOTICE} Reply STOP to opt out."
    )


def stop_confirmation(details: ProgramDetails, *, ask_about_appointment: bool = False) -> str:
    """The one confirmation an opt-out gets. ``ask_about_appointment`` when the patient wrote
    CANCEL (or more than a keyword) and has an upcoming appointment: CANCEL stops texts, so the
    text asks whether the visit should be cancelled too — by phone, as no more texts follow."""
    text = (
        f"{details.organisation}: You're unsubscribed and will get no more texts. "
        f"Reply START to resubscribe."
    )
    if ask_about_appointment:
        text += f" To cancel an appointment too, call {details.contact}."
    return text


def opt_in_confirmation(details: ProgramDetails) -> str:
    return (
        f"{details.organisation}: You're subscribed to {details.program}. "
        f"{details.frequency} {RATES_NOTICE} Reply HELP for help, STOP to opt out."
    )
