"""FHIR reference strings, parsed without ever raising.

A reference is one of: ``#id`` (a contained resource), ``urn:uuid:…`` / ``urn:oid:…`` (a
bundle entry's fullUrl), ``Type/id`` (relative), ``http(s)://base/Type/id`` (absolute), each
optionally with ``/_history/version``, or the conditional ``Type?identifier=system|value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, unquote

RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_ID = r"[A-Za-z0-9\-.]{1,64}"
_LOCAL = re.compile(
    rf"(?P<type>[A-Z][A-Za-z]{{1,63}})/(?P<id>{_ID})(?:/_history/(?P<version>{_ID}))?"
)
_ABSOLUTE = re.compile(rf"(?P<base>https?://[^\s?#]+?)/{_LOCAL.pattern}")
_CONDITIONAL = re.compile(r"(?:https?://[^\s?#]+/)?(?P<type>[A-Z][A-Za-z]{1,63})\?(?P<query>\S+)")
_URN = re.compile(r"urn:(?:uuid|oid):\S+", re.IGNORECASE)


class ReferenceKind(StrEnum):
    CONTAINED = "contained"
    URN = "urn"
    LOCAL = "local"
    ABSOLUTE = "absolute"
    CONDITIONAL = "conditional"


@dataclass(frozen=True, slots=True)
class ParsedReference:
    kind: ReferenceKind
    text: str
    resource_type: str | None = None
    id: str | None = None
    version: str | None = None
    base: str | None = None
    identifier_system: str | None = None
    identifier_value: str | None = None


def parse_reference(text: object) -> ParsedReference | None:
    """The parts of a reference string, or None when it is not one we understand."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) < 2 or len(text) > 2048:
        return None
    if text.startswith("#"):
        return _contained(text)
    if _URN.fullmatch(text):
        return ParsedReference(ReferenceKind.URN, text)
    if match := _CONDITIONAL.fullmatch(text):
        return _conditional(text, match["type"], match["query"])
    if match := _LOCAL.fullmatch(text):
        return ParsedReference(
            ReferenceKind.LOCAL, text, match["type"], match["id"], match["version"]
        )
    if match := _ABSOLUTE.fullmatch(text):
        return ParsedReference(
            ReferenceKind.ABSOLUTE,
            text,
            match["type"],
            match["id"],
            match["version"],
            base=match["base"],
        )
    return None


def _contained(text: str) -> ParsedReference | None:
    contained_id = text[1:]
    if not re.fullmatch(_ID, contained_id):
        return None
    return ParsedReference(ReferenceKind.CONTAINED, text, id=contained_id)


def _conditional(text: str, resource_type: str, query: str) -> ParsedReference | None:
    values = parse_qs(query, keep_blank_values=False).get("identifier")
    if not values:
        return None
    token = unquote(values[0])
    system, separator, value = token.partition("|")
    if not separator:
        system, value = "", token
    if not value:
        return None
    return ParsedReference(
        ReferenceKind.CONDITIONAL,
        text,
        resource_type,
        identifier_system=system or None,
        identifier_value=value,
    )
