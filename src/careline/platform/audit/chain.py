"""The audit chain: keyed links between sealed entries, and the walk that verifies them.

Each sealed entry stores ``previous_hash`` (the link of the entry sealed before it, or
``GENESIS_HASH``) and ``hash`` = HMAC-SHA256(key, canonical JSON of the entry's fields, its
``previous_hash`` and ``key_id``). The keys live outside the database (``AUDIT_CHAIN_KEYS``,
newest first, ``id:secret``); the sealer links with the newest and records its id on the
entry, so verifying a chain that spans a rotation needs every key still listed, and rotation
rewrites nothing. Someone who can write to the database but does not hold the key cannot
forge a link, so an altered, inserted or re-hashed entry is found at its own position.

``sequence`` (the position) is an index, not part of the link: the links from the genesis
fix every entry's place, so renumbering, reordering or removing entries breaks a link.
Entries removed from the end leave no broken link; the checkpoints written outside the
database (``checkpoints.py``) catch those, and a chain rebuilt from scratch.

Retention fits the same walk: archive a sealed prefix (export it, keep the checkpoint at its
last position), delete it with the table owner's rights, and start the walk at that
checkpoint's position and link instead of at 1 and ``GENESIS_HASH`` (``verify_chain``'s
``start`` argument).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from careline.platform.models import AuditEvent

GENESIS_HASH = "0" * 64
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MIN_KEY_LENGTH = 32  # characters of secret a production key must have
SEAL_COLUMNS = ("sequence", "previous_hash", "hash", "key_id", "sealed_at")


@dataclass(frozen=True)
class ChainKey:
    key_id: str
    secret: bytes


def parse_chain_keys(values: Sequence[str]) -> list[ChainKey]:
    """``["2026-11:secret", "2026-01:older secret"]`` → keys, newest first."""
    keys = []
    for value in values:
        key_id, separator, secret = value.partition(":")
        if not separator or not KEY_ID_PATTERN.match(key_id) or not secret:
            raise ImproperlyConfigured(
                "AUDIT_CHAIN_KEYS holds comma-separated 'key-id:secret' pairs, newest first "
                "(a key id is 1 to 32 letters, digits, '.', '_' or '-')."
            )
        keys.append(ChainKey(key_id, secret.encode()))
    if len({key.key_id for key in keys}) != len(keys):
        raise ImproperlyConfigured("AUDIT_CHAIN_KEYS names a key id twice.")
    return keys


def chain_keys() -> list[ChainKey]:
    keys = parse_chain_keys(settings.AUDIT_CHAIN_KEYS)
    if not keys:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEYS is empty: the sealer has no key to link with.")
    return keys


def link_hash(fields: Mapping[str, Any], *, previous_hash: str, key: ChainKey) -> str:
    """The entry's link: an HMAC over its fields, the link before it and the key's id."""
    message = {**fields, "previous_hash": previous_hash, "key_id": key.key_id}
    canonical = json.dumps(message, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key.secret, canonical.encode(), hashlib.sha256).hexdigest()


class ProblemKind(StrEnum):
    ALTERED = "altered"
    INSERTED = "inserted"
    DELETED = "deleted"
    TRUNCATED = "truncated"
    UNKNOWN_KEY = "unknown key"


@dataclass(frozen=True)
class ChainProblem:
    position: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class Checkpoint:
    """What the sealer wrote outside the database after sealing up to ``position``."""

    position: int
    hash: str
    recorded_at: str
    key_id: str


@dataclass(frozen=True)
class ChainStart:
    """Where a walk begins: the genesis, or the checkpoint of an archived prefix."""

    position: int = 1
    previous_hash: str = GENESIS_HASH


@dataclass(frozen=True)
class SealedLink:
    """A sealed entry as the walk sees it."""

    position: int
    previous_hash: str
    hash: str
    key_id: str
    fields: dict[str, Any]


def verify_chain(
    *,
    checkpoints: Iterable[Checkpoint] = (),
    start: ChainStart | None = None,
    batch_size: int = 5000,
) -> tuple[int, ChainProblem | None]:
    """Walk the sealed entries in order: (entries verified, the first problem or None)."""
    keys = {key.key_id: key for key in chain_keys()}
    start = start or ChainStart()
    by_position: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_position.setdefault(checkpoint.position, []).append(checkpoint)
    expected, previous_hash, verified = start.position, start.previous_hash, 0
    links = _lookahead(_sealed_links(start.position, batch_size))
    for link, following in links:
        problem = _check_link(link, following, expected, previous_hash, keys)
        problem = problem or _check_checkpoints(link, by_position.get(link.position, []))
        if problem is not None:
            return verified, problem
        expected, previous_hash, verified = link.position + 1, link.hash, verified + 1
    beyond = [
        checkpoint
        for at_position in by_position.values()
        for checkpoint in at_position
        if checkpoint.position >= expected
    ]
    if beyond:
        furthest = max(beyond, key=lambda checkpoint: checkpoint.position)
        return verified, ChainProblem(
            expected,
            ProblemKind.TRUNCATED,
            f"the chain ends at #{expected - 1} but a checkpoint written at "
            f"{furthest.recorded_at} saw #{furthest.position}",
        )
    return verified, None


def _check_link(
    link: SealedLink,
    following: SealedLink | None,
    expected: int,
    previous_hash: str,
    keys: Mapping[str, ChainKey],
) -> ChainProblem | None:
    if link.position != expected:
        count = link.position - expected
        missing = f"entry #{expected} is" if count == 1 else f"{count} entries from #{expected} are"
        return ChainProblem(expected, ProblemKind.DELETED, f"{missing} missing")
    key = keys.get(link.key_id)
    if key is None:
        return ChainProblem(
            link.position,
            ProblemKind.UNKNOWN_KEY,
            f"sealed with key {link.key_id!r}, which AUDIT_CHAIN_KEYS does not hold",
        )
    expected_hash = link_hash(link.fields, previous_hash=link.previous_hash, key=key)
    if not hmac.compare_digest(expected_hash, link.hash):
        if following is not None and following.previous_hash == previous_hash:
            return ChainProblem(
                link.position,
                ProblemKind.INSERTED,
                "this entry is not in the chain: the next entry links to the one before it",
            )
        return ChainProblem(
            link.position, ProblemKind.ALTERED, "the entry does not match its link hash"
        )
    if link.previous_hash != previous_hash:
        return ChainProblem(
            link.position,
            ProblemKind.DELETED,
            "an entry sealed just before this one is missing (its link points elsewhere)",
        )
    return None


def _check_checkpoints(link: SealedLink, checkpoints: list[Checkpoint]) -> ChainProblem | None:
    for checkpoint in checkpoints:
        if checkpoint.hash != link.hash:
            return ChainProblem(
                link.position,
                ProblemKind.ALTERED,
                f"the link differs from the checkpoint written at {checkpoint.recorded_at} "
                "(the chain was rebuilt)",
            )
    return None


def _lookahead(links: Iterator[SealedLink]) -> Iterator[tuple[SealedLink, SealedLink | None]]:
    current = next(links, None)
    while current is not None:
        following = next(links, None)
        yield current, following
        current = following


def _sealed_links(first_position: int, batch_size: int) -> Iterator[SealedLink]:
    last = first_position - 1
    sealed = AuditEvent.objects.filter(sequence__isnull=False)
    while True:
        batch = list(sealed.filter(sequence__gt=last).order_by("sequence")[:batch_size])
        if not batch:
            return
        for event in batch:
            last = event.sequence or last  # never None here: only sealed entries are read
            yield SealedLink(
                last, event.previous_hash, event.hash, event.key_id, linked_fields(event)
            )


def linked_fields(event: AuditEvent) -> dict[str, Any]:
    """The entry's own fields the link covers, as JSON-ready values (no seal columns but
    ``sealed_at``, which the sealer sets with the link)."""
    return {
        "public_id": str(event.public_id),
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "actor_role": event.actor_role,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "patient_id": str(event.patient_id) if event.patient_id else None,
        "purpose": event.purpose,
        "channel": event.channel,
        "remote_addr": event.remote_addr,
        "user_agent": event.user_agent,
        "outcome": event.outcome,
        "is_break_glass": event.is_break_glass,
        "details": event.details,
        "sealed_at": event.sealed_at.astimezone(UTC).isoformat() if event.sealed_at else None,
    }
