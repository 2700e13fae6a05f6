"""Characters that disguise how a name or contact value reads — one rule for every surface.

Bidi embeddings and overrides (U+202A to U+202E) and isolates (U+2066 to U+2069) reorder
what follows them on screen and in exports ("invoice" U+202E "fdp.exe" shows as
"invoiceexe.pdf"); C0 and C1 control characters (U+0000 to U+001F, U+007F to U+009F) are
invisible or break lines. Staff forms and the API refuse them (``require_plain_text``: 422
naming the field); the importer strips them and reports which it removed
(``strip_disguising_characters``). Ordinary direction marks (U+200E, U+200F, U+061C), which
right-to-left names legitimately carry, are not in the rule.
"""

from __future__ import annotations

import re

from careline.platform.errors import ValidationFailed

_RANGES = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
DISGUISING_CHARACTERS = re.compile(f"[{_RANGES}]")
# The rule as a JSON-Schema pattern, for API documents that state what they accept.
PLAIN_TEXT_PATTERN = f"^[^{_RANGES}]*$"
_LINE_BREAKS = re.compile("[\t\n\x0b\x0c\r\x85]")


def disguising_characters(value: str) -> list[str]:
    """The disguising characters in ``value`` as sorted code points (``["U+202E"]``)."""
    found = {ord(character) for character in DISGUISING_CHARACTERS.findall(value)}
    return [f"U+{code:04X}" for code in sorted(found)]


def plain_text_problem(value: str, *, label: str) -> str | None:
    """What is wrong with ``value`` in a sentence starting with ``label``, or None."""
    found = disguising_characters(value)
    if not found:
        return None
    if len(found) == 1:
        what, pronoun = f"an invisible control character ({found[0]})", "it"
    else:
        what, pronoun = f"invisible control characters ({', '.join(found)})", "them"
    return f"{label} contains {what} that can disguise how it reads; remove {pronoun}."


def require_plain_text(value: str, *, field: str, label: str) -> str:
    """``value`` unchanged, or ``ValidationFailed`` naming ``field`` and the characters."""
    problem = plain_text_problem(value, label=label)
    if problem is not None:
        raise ValidationFailed(problem, details={"field": field})
    return value


def strip_disguising_characters(value: str) -> tuple[str, list[str]]:
    """``value`` without them (line breaks and tabs become spaces), and which were removed."""
    found = disguising_characters(value)
    if not found:
        return value, []
    return DISGUISING_CHARACTERS.sub("", _LINE_BREAKS.sub(" ", value)), found
