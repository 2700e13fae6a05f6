"""The policy gate: every rule alone, then combined; quiet hours across DST changeovers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careline.messaging.policy import Candidate, Cap, Rule, SendFacts, decide
from careline.messaging.quiet_hours import Window, next_allowed, window_for

NEW_YORK = ZoneInfo("America/New_York")
NOON_NY = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York
BODY = "Careline Health: visit Jun 12 10:00. Reply C to confirm. Call 555-0100"
SMS = Candidate(
    channel="sms",
    purpose="appointment_reminder",
    category="transactional",
    address="+16175550142",
    body=BODY,
)
FACTS = SendFacts(
    org_name="Careline Health",
    org_contact="555-0100",
    zone=NEW_YORK,
    window=Window(time(8), time(21)),
)


def test_a_plain_reminder_is_sent_at_once():
    decision = decide(SMS, FACTS, now=NOON_NY)
    assert (decision.outcome, decision.rule, decision.send_at) == ("send", Rule.ALLOWED, NOON_NY)


@pytest.mark.parametrize(
    ("facts", "candidate", "rule"),
    [
        (replace(FACTS, is_deceased=True), SMS, Rule.DECEASED),
        (FACTS, replace(SMS, address=""), Rule.NO_ADDRESS),
        (replace(FACTS, is_suppressed=True), SMS, Rule.SUPPRESSED),
        (replace(FACTS, is_landline=True), SMS, Rule.LANDLINE),
        (replace(FACTS, channel_consent=False), SMS, Rule.CHANNEL_REFUSED),
        (FACTS, replace(SMS, category="marketing"), Rule.MARKETING_CONSENT),
        (
            replace(FACTS, marketing_consent=True),
            replace(SMS, category="marketing"),
            Rule.MARKETING_CONSENT,
        ),
        (FACTS, replace(SMS, adapter_covered_by_baa=False), Rule.NO_BAA),
        (FACTS, replace(SMS, body=BODY + " " + "x" * 100), Rule.TCPA_EXEMPTION),
        (FACTS, replace(SMS, body="Visit Jun 12 10:00. Call 555-0100"), Rule.TCPA_EXEMPTION),
        (replace(FACTS, sent_last_day=1, sent_last_week=1), SMS, Rule.TCPA_EXEMPTION),
        (replace(FACTS, sent_last_week=3), SMS, Rule.TCPA_EXEMPTION),
        (replace(FACTS, cap=Cap(2, 7), purpose_count=2), SMS, Rule.FREQUENCY_CAP),
    ],
)
def test_each_rule_blocks_alone_and_names_itself(facts, candidate, rule):
    decision = decide(candidate, facts, now=NOON_NY)
    assert (decision.outcome, decision.rule) == ("block", rule)
    assert decision.reason


def test_express_consent_lifts_the_tcpa_limits_and_marketing_needs_both_consents():
    consented = replace(FACTS, express_consent=True, sent_last_day=5, sent_last_week=9)
    assert decide(replace(SMS, body="x" * 300), consented, now=NOON_NY).rule == Rule.ALLOWED
    marketing = replace(SMS, category="marketing")
    both = replace(consented, marketing_consent=True)
    assert decide(marketing, both, now=NOON_NY).rule == Rule.ALLOWED
    assert decide(marketing, replace(both, express_consent=False), now=NOON_NY).rule == (
        Rule.MARKETING_CONSENT
    )


def test_email_is_not_under_the_tcpa_rule():
    email = replace(SMS, channel="email", body="x" * 500, address="a@example.org")
    assert decide(email, replace(FACTS, sent_last_day=4), now=NOON_NY).rule == Rule.ALLOWED


def test_quiet_hours_defer_to_eight_local_and_expiry_drops():
    late = datetime(2026, 6, 11, 2, 30, tzinfo=UTC)  # 22:30 in New York
    decision = decide(SMS, FACTS, now=late)
    assert (decision.outcome, decision.rule) == ("defer", Rule.QUIET_HOURS)
    assert decision.send_at == datetime(2026, 6, 11, 12, 0, tzinfo=UTC)  # 08:00 EDT
    expiring = replace(SMS, expires_at=datetime(2026, 6, 11, 11, 0, tzinfo=UTC))
    assert decide(expiring, FACTS, now=late).rule == Rule.EXPIRED


def test_replies_ignore_quiet_hours_caps_and_tcpa_counts_but_not_deceased_or_stop():
    late = datetime(2026, 6, 11, 2, 30, tzinfo=UTC)
    reply = replace(SMS, is_reply=True, body="x" * 200)
    busy = replace(FACTS, sent_last_day=3, sent_last_week=9, cap=Cap(1, 1), purpose_count=4)
    assert decide(reply, busy, now=late).outcome == "send"
    assert decide(reply, replace(busy, is_suppressed=True), now=late).rule == Rule.SUPPRESSED
    assert decide(reply, replace(busy, is_deceased=True), now=late).rule == Rule.DECEASED


def test_the_first_failing_rule_names_a_combined_block():
    everything = replace(FACTS, is_deceased=True, is_suppressed=True, channel_consent=False)
    assert decide(replace(SMS, category="marketing"), everything, now=NOON_NY).rule == (
        Rule.DECEASED
    )
    assert decide(SMS, replace(everything, is_deceased=False), now=NOON_NY).rule == (
        Rule.SUPPRESSED
    )


def test_state_rules_and_own_quiet_hours_narrow_the_window():
    assert window_for(state="FL") == Window(time(8), time(20))
    assert window_for(state="ny") == Window(time(8), time(21))
    assert window_for(state="NY", own_start=time(19), own_end=time(10)) == Window(
        time(10), time(19)
    )


ZONES = st.sampled_from(
    [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
    ]
)
# Around the 2026 changeovers (8 March, 1 November) and ordinary days.


def _bound(year: int, month: int, day: int) -> datetime:
    """Hypothesis takes naive bounds (read in ``timezones``): a UTC day, made naive."""
    return datetime(year, month, day, tzinfo=UTC).replace(tzinfo=None)


INSTANTS = st.datetimes(
    min_value=_bound(2026, 3, 6), max_value=_bound(2026, 3, 10), timezones=st.just(UTC)
) | st.datetimes(
    min_value=_bound(2026, 10, 30), max_value=_bound(2026, 11, 3), timezones=st.just(UTC)
)
WINDOWS = st.sampled_from(
    [Window(time(8), time(21)), Window(time(8), time(20)), Window(time(10), time(19))]
)


@settings(max_examples=300, deadline=None)
@given(moment=INSTANTS, zone_name=ZONES, window=WINDOWS)
def test_next_allowed_is_the_earliest_instant_inside_the_local_window(moment, zone_name, window):
    zone = ZoneInfo(zone_name)
    allowed = next_allowed(moment, zone=zone, window=window)
    local = allowed.astimezone(zone).time()
    assert allowed >= moment
    assert window.start <= local < window.end
    if allowed > moment:
        assert local == window.start  # deferred to the window's opening, not later
        # No earlier allowed instant: every minute between was outside the window.
        probe = moment
        while probe < allowed:
            assert not (window.start <= probe.astimezone(zone).time() < window.end)
            probe += timedelta(minutes=17)
