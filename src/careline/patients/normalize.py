"""Normalisation of what people type and what sources send: phones, emails, names, dates.

Phones become E.164 (``+16175550142``) with ``phonenumbers``; emails are stripped and
lower-cased; names become lower-case ASCII for search (``José Núñez`` → ``nunez jose``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import phonenumbers
from unidecode import unidecode

DEFAULT_REGION = "US"
_SPACES = re.compile(r"\s+")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%Y%m%d", "%d.%m.%Y")


def phone_to_e164(value: str, *, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of a possible phone number, or None when it is not one."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A phone number for people to read: national format at home, international abroad."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(value: str) -> str:
    return value.strip().lower()


def visible_text(value: str) -> str:
    """``value`` without format characters (zero-width spaces, bidi controls, byte-order
    marks, soft hyphens), its control characters (tab, NUL, C1 …) turned into spaces."""
    return "".join(
        " " if category == "Cc" else character
        for character in value
        if (category := unicodedata.category(character)) != "Cf"
    )


def search_text(value: str) -> str:
    """Lower-case ASCII with single spaces: the form names are stored and searched in."""
    return _SPACES.sub(" ", unidecode(visible_text(value)).lower()).strip()


def search_name(given_names: str, family_name: str) -> str:
    """'family given': a prefix of it is a prefix of the family name, which an index serves
    in name order (search lists the patients whose family name starts with the text first)."""
    return search_text(f"{family_name} {given_names}")


def parse_date(value: str) -> date | None:
    """A date typed in a common US or ISO format, or None."""
    text = value.strip()
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    return None
