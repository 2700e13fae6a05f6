"""The policy gate: ONE function, ``decide``, answers every send — at enqueue and again just
before the dispatcher hands the message to an adapter — from facts gathered in bulk
(``messaging.selectors.gather_send_facts``). It is pure: no query, no clock of its own.

The rules, in the order they are tried; the first that does not allow names the decision:

``deceased``          a deceased patient is never contacted;
``no_address``        nothing to send to on that channel;
``suppressed``        the address opted out on that channel (STOP, bounce, complaint, carrier);
``landline``          a number known to be a landline is not texted;
``channel_refused``   the patient refused or withdrew consent to that channel;
``marketing_consent`` marketing needs marketing consent AND express consent for the address;
``no_baa``            a message with PHI never goes to an adapter without a BAA;
``tcpa_exemption``    a transactional/care SMS without express consent for the number runs
                      under the TCPA healthcare exemption: under 160 characters, the
                      organisation's name and a contact in the text, at most 1 a day and 3 a
                      week per patient;
``frequency_cap``     per-purpose caps (``CARELINE_MESSAGING_CAPS``);
``quiet_hours``       outside the local window → DEFER to the next allowed instant;
``expired``           … unless that is past the message's expiry (its appointment): dropped.

Replies to the patient's own message and confirmations of her own action (``is_reply``) are
never held by quiet hours and never count toward (nor are stopped by) caps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from careline.messaging.quiet_hours import Window, next_allowed

SMS_SEGMENT_LIMIT = 160
TCPA_DAY_LIMIT = 1
TCPA_WEEK_LIMIT = 3
TEXT_CHANNELS = frozenset({"sms", "voice"})


class Rule:
    ALLOWED = "allowed"
    DECEASED = "deceased"
    NO_ADDRESS = "no_address"
    SUPPRESSED = "suppressed"
    LANDLINE = "landline"
    CHANNEL_REFUSED = "channel_refused"
    MARKETING_CONSENT = "marketing_consent"
    NO_BAA = "no_baa"
    TCPA_EXEMPTION = "tcpa_exemption"
    FREQUENCY_CAP = "frequency_cap"
    QUIET_HOURS = "quiet_hours"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Candidate:
    """The send to decide: what, to whom, on which channel, through which adapter."""

    channel: str
    purpose: str
    category: str  # transactional | care | marketing
    address: str
    body: str
    is_reply: bool = False
    has_phi: bool = True
    adapter_covered_by_baa: bool = True
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cap:
    limit: int
    days: int


@dataclass(frozen=True, slots=True)
class SendFacts:
    """Everything the rules look at, gathered beforehand for many messages at once.

    ``sent_last_day``/``sent_last_week``: this patient's outbound SMS that count toward the
    TCPA limits; ``purpose_counts``: her messages of this purpose within that purpose's cap
    window. ``org_name``/``org_contact`` must appear in an exempt text."""

    is_deceased: bool = False
    is_suppressed: bool = False
    is_landline: bool = False
    channel_consent: bool | None = None  # the patient's decision for the channel, if any
    marketing_consent: bool = False
    express_consent: bool = False  # express consent (with provenance) for this address
    sent_last_day: int = 0
    sent_last_week: int = 0
    purpose_count: int = 0
    cap: Cap | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    window: Window | None = None
    org_name: str = ""
    org_contact: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # send | defer | block
    rule: str
    reason: str
    send_at: datetime

    @property
    def is_send(self) -> bool:
        return self.outcome == "send"


def _block(rule: str, reason: str, now: datetime) -> Decision:
    return Decision("block", rule, reason, now)


def decide(candidate: Candidate, facts: SendFacts, *, now: datetime) -> Decision:
    """Send now, defer to an instant, or block — and the rule that said so."""
    blocked = _first_block(candidate, facts)
    if blocked is not None:
        return _block(blocked[0], blocked[1], now)
    if candidate.is_reply or facts.window is None:
        return Decision("send", Rule.ALLOWED, "", now)
    send_at = next_allowed(now, zone=facts.zone, window=facts.window)
    if send_at == now:
        return Decision("send", Rule.ALLOWED, "", now)
    if candidate.expires_at is not None and send_at >= candidate.expires_at:
        return _block(Rule.EXPIRED, "Quiet hours last past the time it is for.", now)
    local = send_at.astimezone(facts.zone)
    return Decision(
        "defer", Rule.QUIET_HOURS, f"Quiet hours: sent at {local:%H:%M} {facts.zone.key}.", send_at
    )


def _first_block(candidate: Candidate, facts: SendFacts) -> tuple[str, str] | None:
    for check in (_reachable, _consented, _phi, _tcpa, _capped):
        found = check(candidate, facts)
        if found is not None:
            return found
    return None


def _reachable(candidate: Candidate, facts: SendFacts) -> tuple[str, str] | None:
    if facts.is_deceased:
        return Rule.DECEASED, "The patient is deceased."
    if not candidate.address:
        return Rule.NO_ADDRESS, f"No {candidate.channel} address on file."
    if facts.is_landline and candidate.channel == "sms":
        return Rule.LANDLINE, "The number is a landline."
    if facts.is_suppressed:
        return Rule.SUPPRESSED, f"The address opted out of {candidate.channel} messages."
    return None


def _consented(candidate: Candidate, facts: SendFacts) -> tuple[str, str] | None:
    if facts.channel_consent is False and not candidate.is_reply:
        return Rule.CHANNEL_REFUSED, f"The patient refused {candidate.channel} messages."
    if candidate.category == "marketing" and not (
        facts.marketing_consent and (facts.express_consent or candidate.channel == "portal")
    ):
        return Rule.MARKETING_CONSENT, "Marketing needs marketing and channel consent."
    return None


def _phi(candidate: Candidate, facts: SendFacts) -> tuple[str, str] | None:
    del facts
    if candidate.has_phi and not candidate.adapter_covered_by_baa:
        return Rule.NO_BAA, "The channel's provider has no business associate agreement."
    return None


def _tcpa(candidate: Candidate, facts: SendFacts) -> tuple[str, str] | None:
    """The healthcare exemption's conditions for texts without express consent."""
    if candidate.channel != "sms" or facts.express_consent or candidate.is_reply:
        return None
    if len(candidate.body) >= SMS_SEGMENT_LIMIT:
        return Rule.TCPA_EXEMPTION, "Without express consent a text must be under 160 characters."
    if facts.org_name not in candidate.body or facts.org_contact not in candidate.body:
        return Rule.TCPA_EXEMPTION, "Without express consent a text must name us and a contact."
    if facts.sent_last_day >= TCPA_DAY_LIMIT:
        return Rule.TCPA_EXEMPTION, "Without express consent: at most 1 text a day."
    if facts.sent_last_week >= TCPA_WEEK_LIMIT:
        return Rule.TCPA_EXEMPTION, "Without express consent: at most 3 texts a week."
    return None


def _capped(candidate: Candidate, facts: SendFacts) -> tuple[str, str] | None:
    cap = facts.cap
    if cap is None or candidate.is_reply or facts.purpose_count < cap.limit:
        return None
    return Rule.FREQUENCY_CAP, f"At most {cap.limit} of these in {cap.days} days."
