"""What an incoming text asks for: opt out, opt back in, help, an answer to an appointment
reminder, a pick among listed choices, or free text for the inbox.

The rules, in the order they are applied (the first that matches wins):

1. **Opt-out by any reasonable means** (FCC 2025, 47 CFR 64.1200(a)(10)). The keywords STOP,
   STOPALL, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE (and Spanish ALTO, PARAR,
   DETENER, CANCELAR) opt out when they are the whole message, when the message starts with
   one ("Stop texting me", "Cancel my appointment"), or when they appear in a short message
   of up to three words ("ok stop"). Plain-language requests opt out wherever they appear:
   "please stop texting me", "don't text me anymore", "no more messages", "remove me from
   this list", "opt me out", "leave me alone". A false opt-out costs one confirmation and a
   START; a missed one is a violation, so the rules lean towards opting out.
2. **CANCEL is an opt-out word, never an appointment cancel**: the carriers and the FCC treat
   it as STOP, so the appointment reply is the letter X. The STOP confirmation may ask
   whether the patient also meant to cancel the appointment (``program_texts``).
3. START, UNSTOP, YES (the whole message) opt back in; HELP or INFO ask for the program text.
4. C / CONFIRM confirms, R / RESCHEDULE asks to reschedule, X cancels the appointment — each
   only as the whole message: free text never confirms or cancels anything.
5. A number alone ("1", " 2. ") picks among listed choices: on a number shared by several
   patients, "reply 1 for Ana, 2 for Leo".
6. Anything else is free text for the unified inbox.

Matching ignores case, accents, punctuation, extra spaces and polite filler ("please",
"thanks").
"""

from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass

from unidecode import unidecode


class Intent(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    CANCEL_APPOINTMENT = "cancel_appointment"
    CHOICE = "choice"
    FREE_TEXT = "free_text"


@dataclass(frozen=True)
class InboundIntent:
    """The intent of one incoming text; ``choice`` is the number picked for ``CHOICE``."""

    intent: Intent
    choice: int | None = None


OPT_OUT_KEYWORDS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("stop",),
        ("stopall",),
        ("stop", "all"),
        ("quit",),
        ("end",),
        ("revoke",),
        ("opt", "out"),
        ("optout",),
        ("cancel",),
        ("cancel", "all"),
        ("unsubscribe",),
        ("alto",),
        ("parar",),
        ("detener",),
        ("cancelar",),
    }
)
_OPT_IN_WORDS = frozenset({"start", "unstop", "yes", "subscribe"})
_HELP_WORDS = frozenset({"help", "info", "ayuda"})
_APPOINTMENT_REPLIES = {
    "c": Intent.CONFIRM,
    "confirm": Intent.CONFIRM,
    "confirmed": Intent.CONFIRM,
    "r": Intent.RESCHEDULE,
    "reschedule": Intent.RESCHEDULE,
    "x": Intent.CANCEL_APPOINTMENT,
}
FILLER_WORDS = frozenset(
    {"please", "pls", "plz", "thanks", "thank", "you", "thx", "now", "ok", "okay"}
)
_SHORT_MESSAGE_WORDS = 3
_MAX_CHOICE = 99

# Plain-language opt-out requests, matched on the normalised text (apostrophes removed, so
# "don't" is "dont").
_PLAIN_OPT_OUT = re.compile(
    r"""
    \b(?:stop|quit|cease|end)\s+(?:texting|txting|messaging|sending|contacting|calling
        |the\s+texts|the\s+messages|these|receiving)\b
    | \b(?:dont|do\s+not|never)\s+(?:text|txt|message|msg|contact|send|call)\b
    | \bno\s+more\s+(?:texts?|txts?|messages?|msgs?|sms|reminders?)\b
    | \b(?:remove|take)\s+me\s+(?:from|off)\b
    | \bunsubscribe\b
    | \bopt\s*(?:me\s+)?out\b
    | \bleave\s+me\s+alone\b
    | \bno\s+mas\s+(?:mensajes|textos)\b
    """,
    re.VERBOSE,
)


def normalise(text: str) -> list[str]:
    """The words of ``text``: ASCII, lower case, apostrophes dropped, any other punctuation a
    space."""
    flat = unidecode(text).lower().replace("'", "").replace("`", "")
    return re.sub(r"[^a-z0-9]+", " ", flat).split()


def recognise_intent(text: str) -> InboundIntent:
    """The intent of an incoming text (see the module docstring for the rules)."""
    words = normalise(text)
    if _is_opt_out(words):
        return InboundIntent(Intent.OPT_OUT)
    core = [word for word in words if word not in FILLER_WORDS] or words
    if len(core) == 1:
        return _single_word_intent(core[0])
    return InboundIntent(Intent.FREE_TEXT)


def _is_opt_out(words: list[str]) -> bool:
    if not words:
        return False
    core = tuple(word for word in words if word not in FILLER_WORDS)
    if core in OPT_OUT_KEYWORDS or (core[:2] in OPT_OUT_KEYWORDS or core[:1] in OPT_OUT_KEYWORDS):
        return True
    if len(words) <= _SHORT_MESSAGE_WORDS and _contains_keyword(words):
        return True
    return _PLAIN_OPT_OUT.search(" ".join(words)) is not None


def _contains_keyword(words: list[str]) -> bool:
    pairs = set(itertools.pairwise(words))
    return any((word,) in OPT_OUT_KEYWORDS for word in words) or any(
        pair in OPT_OUT_KEYWORDS for pair in pairs
    )


def _single_word_intent(word: str) -> InboundIntent:
    if word in _OPT_IN_WORDS:
        return InboundIntent(Intent.OPT_IN)
    if word in _HELP_WORDS:
        return InboundIntent(Intent.HELP)
    if word in _APPOINTMENT_REPLIES:
        return InboundIntent(_APPOINTMENT_REPLIES[word])
    if word.isdigit() and 1 <= int(word) <= _MAX_CHOICE:
        return InboundIntent(Intent.CHOICE, choice=int(word))
    return InboundIntent(Intent.FREE_TEXT)
