"""Inbound intents: opt-out by any reasonable means, CANCEL never an appointment cancel,
appointment letters, choices, free text; and the carrier program texts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careline.messaging.intents import (
    FILLER_WORDS,
    OPT_OUT_KEYWORDS,
    InboundIntent,
    Intent,
    normalise,
    recognise_intent,
)
from careline.messaging.program_texts import (
    ProgramDetails,
    help_reply,
    opt_in_confirmation,
    stop_confirmation,
)

KEYWORD_TEXTS = sorted(" ".join(words) for words in OPT_OUT_KEYWORDS)
PUNCTUATION = st.text(alphabet=" \t\n.,!?;:-*()\"'", max_size=4)


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop.",
        "QUIT",
        "END",
        "REVOKE",
        "OPT OUT",
        "opt-out",
        "OptOut",
        "CANCEL",
        "UNSUBSCRIBE",
        "STOPALL",
        "Stop all",
        "please stop",
        "Stop now!!",
        "ok stop",
        "please stop texting me",
        "Don't text me anymore",
        "don\u2019t text me anymore",  # a typographic apostrophe, as phones type it
        "Do not contact me",
        "No more messages please",
        "remove me from this list",
        "Take me off your list",
        "opt me out",
        "I want to unsubscribe from these",
        "leave me alone",
        "Stop sending me these reminders",
        "Cancel my appointment",
        "ALTO",
        "no más mensajes",
    ],
)
def test_opt_out_by_any_reasonable_means(text: str) -> None:
    assert recognise_intent(text) == InboundIntent(Intent.OPT_OUT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("START", InboundIntent(Intent.OPT_IN)),
        ("unstop", InboundIntent(Intent.OPT_IN)),
        ("Yes", InboundIntent(Intent.OPT_IN)),
        ("HELP", InboundIntent(Intent.HELP)),
        ("info?", InboundIntent(Intent.HELP)),
        ("C", InboundIntent(Intent.CONFIRM)),
        (" c. ", InboundIntent(Intent.CONFIRM)),
        ("Confirm please", InboundIntent(Intent.CONFIRM)),
        ("R", InboundIntent(Intent.RESCHEDULE)),
        ("reschedule", InboundIntent(Intent.RESCHEDULE)),
        ("X", InboundIntent(Intent.CANCEL_APPOINTMENT)),
        ("x!", InboundIntent(Intent.CANCEL_APPOINTMENT)),
        ("1", InboundIntent(Intent.CHOICE, choice=1)),
        (" 2. ", InboundIntent(Intent.CHOICE, choice=2)),
        ("0", InboundIntent(Intent.FREE_TEXT)),
        ("100", InboundIntent(Intent.FREE_TEXT)),
        ("Can I come at 3 instead?", InboundIntent(Intent.FREE_TEXT)),
        ("x ray results?", InboundIntent(Intent.FREE_TEXT)),
        ("Thank you", InboundIntent(Intent.FREE_TEXT)),
        ("I can't stop coughing, should I still come?", InboundIntent(Intent.FREE_TEXT)),
        ("", InboundIntent(Intent.FREE_TEXT)),
        ("!!!", InboundIntent(Intent.FREE_TEXT)),
    ],
)
def test_other_intents(text: str, expected: InboundIntent) -> None:
    assert recognise_intent(text) == expected


def test_normalise_drops_case_accents_apostrophes_and_punctuation() -> None:
    assert normalise("  Don't  TEXT—me, Señora! ") == ["dont", "text", "me", "senora"]


@given(
    keyword=st.sampled_from(KEYWORD_TEXTS), before=PUNCTUATION, after=PUNCTUATION, data=st.data()
)
def test_a_keyword_as_the_whole_message_opts_out(
    keyword: str, before: str, after: str, data: st.DataObject
) -> None:
    cased = "".join(char.upper() if data.draw(st.booleans()) else char.lower() for char in keyword)
    assert recognise_intent(before + cased + after).intent is Intent.OPT_OUT


@given(before=PUNCTUATION, after=PUNCTUATION, upper=st.booleans())
def test_cancel_is_always_an_opt_out_never_an_appointment_cancel(
    before: str, after: str, upper: bool
) -> None:
    word = "CANCEL" if upper else "cancel"
    assert recognise_intent(before + word + after).intent is Intent.OPT_OUT


@given(text=st.text(max_size=60))
def test_free_text_never_cancels_an_appointment(text: str) -> None:
    if recognise_intent(text).intent is Intent.CANCEL_APPOINTMENT:
        assert [word for word in normalise(text) if word not in FILLER_WORDS] == ["x"]


@given(text=st.text(max_size=60))
def test_any_text_gets_an_intent_and_only_choices_carry_a_number(text: str) -> None:
    recognised = recognise_intent(text)

    assert (recognised.choice is not None) == (recognised.intent is Intent.CHOICE)


@given(number=st.integers(min_value=1, max_value=99), before=PUNCTUATION, after=PUNCTUATION)
def test_a_number_alone_picks_that_choice(number: int, before: str, after: str) -> None:
    assert recognise_intent(f"{before}{number}{after}") == InboundIntent(Intent.CHOICE, number)


DETAILS = ProgramDetails(organisation="Riverside Health", contact="555-0100")


def test_help_reply_names_who_contact_frequency_rates_and_how_to_stop() -> None:
    assert help_reply(DETAILS) == (
        "Riverside Health appointment and care texts. Help: 555-0100. "
        "Msg frequency varies. Msg & data rates may apply. Reply STOP to opt out."
    )


def test_stop_confirmation_and_the_appointment_question() -> None:
    assert stop_confirmation(DETAILS) == (
        "Riverside Health: You're unsubscribed and will get no more texts. "
        "Reply START to resubscribe."
    )
    assert stop_confirmation(DETAILS, ask_about_appointment=True).endswith(
        "Reply START to resubscribe. To cancel an appointment too, call 555-0100."
    )


def test_opt_in_confirmation() -> None:
    assert opt_in_confirmation(DETAILS) == (
        "Riverside Health: You're subscribed to appointment and care texts. "
        "Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out."
    )


def test_program_texts_fit_one_text() -> None:
    longest = max(
        len(text)
        for text in (
            help_reply(DETAILS),
            stop_confirmation(DETAILS, ask_about_appointment=True),
            opt_in_confirmation(DETAILS),
        )
    )
    assert longest <= 160
