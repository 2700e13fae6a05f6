"""The one rule for characters that disguise how a name or contact value reads: bidi
embeddings, overrides and isolates, C0 and C1 control characters. Forms and the API refuse
them (``require_plain_text``); the importer strips them and reports it
(``strip_disguising_characters``). Ordinary direction marks in right-to-left names stay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careline.platform.errors import ValidationFailed
from careline.platform.text import (
    DISGUISING_CHARACTERS,
    disguising_characters,
    require_plain_text,
    strip_disguising_characters,
)

BIDI_CONTROLS = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
C0_AND_C1 = [chr(code) for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]


def test_the_rule_covers_bidi_controls_and_c0_c1_controls_exactly() -> None:
    covered = [chr(code) for code in range(0x3000) if DISGUISING_CHARACTERS.search(chr(code))]

    assert covered == sorted(C0_AND_C1 + BIDI_CONTROLS)


@pytest.mark.parametrize(
    "name",
    [
        "\u05d3\u05d5\u05d3 \u05db\u05d4\u05df\u200f",
        "\u0645\u062d\u0645\u062f\u061c 42",
        "Ana\u200e",
    ],
    ids=["hebrew-with-rlm", "arabic-with-alm", "latin-with-lrm"],
)
def test_ordinary_direction_marks_stay(name: str) -> None:
    assert require_plain_text(name, field="family_name", label="Family name") == name
    assert strip_disguising_characters(name) == (name, [])


def test_a_bidi_override_is_refused_naming_the_field_and_the_character() -> None:
    with pytest.raises(ValidationFailed) as refused:
        require_plain_text("gpj.\u202eexe", field="value", label="Number or address")

    assert refused.value.message == (
        "Number or address contains an invisible control character (U+202E) that can "
        "disguise how it reads; remove it."
    )
    assert refused.value.details == {"field": "value"}


def test_several_control_characters_are_listed_once_each() -> None:
    assert disguising_characters("a\x85b\u2066c\x85\x00") == ["U+0000", "U+0085", "U+2066"]
    with pytest.raises(ValidationFailed, match=r"characters \(U\+0000, U\+0085\) .* remove them"):
        require_plain_text("a\x85\x00", field="value", label="Value")


def test_strip_removes_them_and_says_which_and_turns_line_breaks_into_spaces() -> None:
    assert strip_disguising_characters("Smith\u202e\t-\x9bJones\r\n") == (
        "Smith -Jones  ",
        ["U+0009", "U+000A", "U+000D", "U+009B", "U+202E"],
    )


@given(st.text())
def test_stripped_text_is_always_plain(value: str) -> None:
    stripped, removed = strip_disguising_characters(value)

    assert disguising_characters(stripped) == []
    assert removed == disguising_characters(value)
    assert require_plain_text(stripped, field="f", label="F") == stripped
