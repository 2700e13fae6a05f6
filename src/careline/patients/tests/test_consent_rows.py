"""Which consent decision is current for its purpose, and what it means on a day."""

from __future__ import annotations

import datetime as dt

import pytest

from careline.patients.models import Consent
from careline.patients.selectors import (
    ConsentState,
    consent_state,
    current_consents,
    list_consent_rows,
)

TODAY = dt.date(2026, 1, 10)
RECEIVED = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def consent(
    purpose: str,
    status: str,
    decided: dt.datetime | None,
    *,
    expires_on: dt.date | None = None,
    received_at: dt.datetime = RECEIVED,
    description: str = "",
) -> Consent:
    return Consent(
        purpose=purpose,
        status=status,
        decided_at=decided,
        expires_on=expires_on,
        received_at=received_at,
        description=description,
    )


def at(day: int) -> dt.datetime:
    return dt.datetime(2025, 12, day, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("status", "expires_on", "state"),
    [
        ("active", None, ConsentState.ACTIVE),
        ("active", dt.date(2026, 1, 10), ConsentState.ACTIVE),  # in force through its last day
        ("active", dt.date(2026, 1, 9), ConsentState.EXPIRED),
        ("rejected", dt.date(2020, 1, 1), ConsentState.REJECTED),  # a refusal does not expire
        ("inactive", None, ConsentState.INACTIVE),
        ("draft", None, ConsentState.DRAFT),
    ],
)
def test_state_on_a_day(status: str, expires_on: dt.date | None, state: ConsentState) -> None:
    assert consent_state(consent("sms", status, at(1), expires_on=expires_on), today=TODAY) == state


def test_rows_by_purpose_latest_first_and_only_the_latest_is_current() -> None:
    older_sms = consent("sms", "active", at(1))
    newer_sms = consent("sms", "inactive", at(20))
    email = consent("email", "draft", at(5))

    rows = list_consent_rows([older_sms, email, newer_sms], today=TODAY)

    assert [(row.consent, row.is_current, row.state) for row in rows] == [
        (email, True, ConsentState.DRAFT),
        (newer_sms, True, ConsentState.INACTIVE),
        (older_sms, False, ConsentState.ACTIVE),
    ]


def test_undated_is_older_than_dated_then_the_later_received_wins() -> None:
    undated = consent("sms", "rejected", None)
    dated = consent("sms", "active", at(1))
    same_time_later = consent("voice", "active", at(3), received_at=RECEIVED + dt.timedelta(1))
    same_time_earlier = consent("voice", "rejected", at(3))

    current = current_consents([undated, dated, same_time_earlier, same_time_later], today=TODAY)

    assert [row.consent for row in current] == [dated, same_time_later]


def test_only_a_current_given_unexpired_decision_is_given() -> None:
    rows = list_consent_rows(
        [
            consent("sms", "active", at(1)),
            consent("sms", "active", at(2), expires_on=dt.date(2026, 1, 1)),
            consent("email", "active", at(2)),
        ],
        today=TODAY,
    )

    assert [(row.purpose, row.is_current, row.is_given) for row in rows] == [
        ("email", True, True),
        ("sms", True, False),  # the latest has expired
        ("sms", False, False),  # given once, but not the current decision
    ]
