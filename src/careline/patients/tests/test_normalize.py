"""Property-based tests for the normalisation of phones, emails, names and typed dates."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from careline.patients.normalize import (
    format_phone,
    normalize_email,
    parse_date,
    phone_to_e164,
    search_name,
    search_text,
)

area_codes = st.sampled_from(["617", "508", "212", "305", "415", "773", "919"])
exchanges = st.integers(min_value=200, max_value=999).map(str)
lines = st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}")

US_FORMATS = (
    "({a}) {e}-{l}",
    "{a}.{e}.{l}",
    "{a}-{e}-{l}",
    "{a}{e}{l}",
    "+1 {a} {e} {l}",
    "1-{a}-{e}-{l}",
    "+1 ({a}) {e}-{l}",
)


@given(area_codes, exchanges, lines, st.sampled_from(US_FORMATS))
def test_every_us_format_of_a_number_normalises_to_the_same_e164(area, exchange, line, shape):
    typed = shape.format(a=area, e=exchange, l=line)

    assert phone_to_e164(typed) == f"+1{area}{exchange}{line}"


@given(area_codes, exchanges, lines)
def test_formatting_an_e164_number_and_parsing_it_again_is_stable(area, exchange, line):
    e164 = f"+1{area}{exchange}{line}"

    assert format_phone(e164) == f"({area}) {exchange}-{line}"
    assert phone_to_e164(format_phone(e164)) == e164


def test_international_numbers_keep_their_country():
    assert phone_to_e164("+44 20 7946 0958") == "+442079460958"
    assert format_phone("+442079460958") == "+44 20 7946 0958"


@given(st.text(max_size=30))
def test_phone_parsing_never_raises_on_any_text(text):
    result = phone_to_e164(text)

    assert result is None or result.startswith("+")


def test_text_that_is_not_a_phone_is_rejected():
    assert phone_to_e164("call me maybe") is None
    assert phone_to_e164("12") is None


@given(st.emails())
def test_emails_are_stripped_and_lower_cased_idempotently(email):
    normalized = normalize_email(f"  {email.upper()} ")

    assert normalized == email.strip().lower()
    assert normalize_email(normalized) == normalized


def test_names_lose_accents_case_and_extra_spaces():
    assert search_name("José  María", "Núñez-Ávila") == "nunez-avila jose maria"
    assert search_text("Nguyễn Thị") == "nguyen thi"
    assert search_text("Łukasz Żółć") == "lukasz zolc"


@given(st.text(max_size=40))
def test_search_text_is_idempotent_ascii_lower_case(text):
    once = search_text(text)

    assert once == search_text(once)
    assert once.isascii()
    assert once == once.lower()
    assert "  " not in once


def test_typed_dates_in_common_formats():
    expected = dt.date(1951, 3, 14)

    assert parse_date("1951-03-14") == expected
    assert parse_date("03/14/1951") == expected
    assert parse_date("3/14/1951") == expected
    assert parse_date("03-14-1951") == expected
    assert parse_date("19510314") == expected
    assert parse_date("14.03.1951") == expected
    assert parse_date("not a date") is None
    assert parse_date("13/45/1951") is None
