"""The Twilio SMS adapter against a local server speaking Twilio's API over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from careline.messaging.channels.base import (
    ChannelKind,
    FailureKind,
    OutgoingMessage,
    PermanentFailure,
    TransientFailure,
)
from careline.messaging.channels.provider_http import DEFAULT_RATE_LIMIT_RETRY_SECONDS
from careline.messaging.channels.sms import (
    TwilioConfig,
    TwilioSmsAdapter,
    TwilioVoiceAdapter,
    reference_from_callback_url,
    with_reference,
)
from careline.messaging.testing.fake_twilio import Behaviour, FakeTwilio

SENDER = "+15555550100"
PATIENT = "+15555550123"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def make_adapter(server: FakeTwilio, **overrides: object) -> TwilioSmsAdapter:
    fields: dict[str, object] = {
        "account_sid": server.account_sid,
        "auth_token": server.auth_token,
        "from_number": SENDER,
        "api_base_url": server.base_url,
        "timeout_seconds": 2.0,
    }
    fields.update(overrides)
    return TwilioSmsAdapter(TwilioConfig(**fields))  # type: ignore[arg-type]


def sms(
    reference: str = "ref-1", to: str = PATIENT, body: str = "Reminder: visit Tue 9:00"
) -> OutgoingMessage:
    return OutgoingMessage(reference=reference, channel=ChannelKind.SMS, to=to, body=body)


def test_send_reaches_the_provider_once_and_returns_its_id(twilio: FakeTwilio) -> None:
    result = make_adapter(twilio).send(sms())

    [logged] = twilio.sent_to(PATIENT)
    assert result.provider_message_id == logged.sid
    assert result.status == "queued"
    assert (logged.sender, logged.body) == (SENDER, "Reminder: visit Tue 9:00")
    assert result.sent_at == logged.date_created.replace(microsecond=0)


def test_the_status_callback_url_carries_the_reference(twilio: FakeTwilio) -> None:
    message = OutgoingMessage(
        reference="0b7c",
        channel=ChannelKind.SMS,
        to=PATIENT,
        body="Hello",
        status_callback_url="https://careline.example/hooks/twilio/status?x=1",
    )
    make_adapter(twilio).send(message)

    [logged] = twilio.sent_to(PATIENT)
    assert (
        logged.status_callback
        == "https://careline.example/hooks/twilio/status?x=1&careline_ref=0b7c"
    )
    assert reference_from_callback_url(logged.status_callback) == "0b7c"
    assert with_reference(logged.status_callback, "0b7c") == logged.status_callback


def test_a_messaging_service_sends_without_a_from_number(twilio: FakeTwilio) -> None:
    adapter = make_adapter(twilio, from_number="", messaging_service_sid="MG" + "1" * 32)
    adapter.send(sms())

    [logged] = twilio.sent_to(PATIENT)
    assert logged.messaging_service_sid == "MG" + "1" * 32


@pytest.mark.parametrize(
    ("behaviour", "kind", "code"),
    [
        (Behaviour.OPTED_OUT, FailureKind.OPTED_OUT, "21610"),
        (Behaviour.LANDLINE, FailureKind.LANDLINE, "21614"),
        (Behaviour.INVALID, FailureKind.INVALID_ADDRESS, "21211"),
    ],
)
def test_permanent_refusals_map_to_their_kind(
    twilio: FakeTwilio, behaviour: Behaviour, kind: FailureKind, code: str
) -> None:
    twilio.behaviours[PATIENT] = behaviour

    with pytest.raises(PermanentFailure) as raised:
        make_adapter(twilio).send(sms())

    assert (raised.value.kind, raised.value.code) == (kind, code)
    assert PATIENT not in raised.value.reason
    assert twilio.sent_to(PATIENT) == []


def test_rate_limited_is_transient_with_the_servers_retry_after(twilio: FakeTwilio) -> None:
    twilio.behaviours[PATIENT] = Behaviour.RATE_LIMITED
    twilio.retry_after = "12"

    with pytest.raises(TransientFailure) as raised:
        make_adapter(twilio).send(sms())

    assert (raised.value.kind, raised.value.code, raised.value.retry_after) == (
        FailureKind.RATE_LIMITED,
        "20429",
        12.0,
    )


def test_rate_limited_without_retry_after_waits_the_default(twilio: FakeTwilio) -> None:
    twilio.behaviours[PATIENT] = Behaviour.RATE_LIMITED
    twilio.retry_after = ""

    with pytest.raises(TransientFailure) as raised:
        make_adapter(twilio).send(sms())

    assert raised.value.retry_after == DEFAULT_RATE_LIMIT_RETRY_SECONDS


def test_a_server_error_is_transient_unavailable(twilio: FakeTwilio) -> None:
    twilio.behaviours[PATIENT] = Behaviour.SERVER_ERROR

    with pytest.raises(TransientFailure) as raised:
        make_adapter(twilio).send(sms())

    assert (raised.value.kind, raised.value.code, raised.value.retry_after) == (
        FailureKind.UNAVAILABLE,
        "20500",
        None,
    )


def test_wrong_credentials_are_transient_until_settings_are_fixed(twilio: FakeTwilio) -> None:
    with pytest.raises(TransientFailure) as raised:
        make_adapter(twilio, auth_token="wrong").send(sms())

    assert (raised.value.kind, raised.value.code) == (FailureKind.UNAVAILABLE, "20003")


def test_an_unreachable_provider_is_transient_unavailable() -> None:
    with FakeTwilio() as stopped:
        adapter = make_adapter(stopped)
    with pytest.raises(TransientFailure) as raised:
        adapter.send(sms())

    assert (raised.value.kind, raised.value.code) == (FailureKind.UNAVAILABLE, "connection")


def test_find_sent_recognises_a_send_whose_answer_was_lost(twilio: FakeTwilio) -> None:
    adapter = make_adapter(twilio, timeout_seconds=0.3)
    adapter.send(sms(reference="other", body="An earlier, different text"))
    since = datetime.now(UTC)
    twilio.behaviours[PATIENT] = Behaviour.HANG

    with pytest.raises(TransientFailure) as raised:
        adapter.send(sms())
    found = adapter.find_sent(sms(), since=since)

    [lost] = [m for m in twilio.sent_to(PATIENT) if m.body == "Reminder: visit Tue 9:00"]
    assert raised.value.code == "timeout"
    assert found is not None
    assert (found.provider_message_id, found.status) == (lost.sid, "queued")


def test_find_sent_is_none_for_a_message_never_accepted(twilio: FakeTwilio) -> None:
    adapter = make_adapter(twilio)
    since = datetime.now(UTC)
    twilio.behaviours[PATIENT] = Behaviour.SERVER_ERROR
    with pytest.raises(TransientFailure):
        adapter.send(sms())
    del twilio.behaviours[PATIENT]
    adapter.send(sms(reference="ref-2", body="A different text to the same number"))

    assert adapter.find_sent(sms(), since=since) is None


def test_find_sent_ignores_the_same_text_sent_before_the_attempt(twilio: FakeTwilio) -> None:
    adapter = make_adapter(twilio)
    adapter.send(sms())

    later = datetime.now(UTC) + timedelta(minutes=10)
    assert adapter.find_sent(sms(), since=later) is None


def test_find_sent_reads_past_the_first_page(twilio: FakeTwilio) -> None:
    adapter = make_adapter(twilio)
    since = datetime.now(UTC)
    first = adapter.send(sms())
    for number in range(60):
        adapter.send(sms(reference=f"n{number}", body=f"Text number {number}"))

    found = adapter.find_sent(sms(), since=since)

    assert found is not None
    assert found.provider_message_id == first.provider_message_id


def test_config_refuses_missing_credentials_or_sender() -> None:
    with pytest.raises(ImproperlyConfigured):
        TwilioConfig(account_sid="", auth_token="t", from_number=SENDER)
    with pytest.raises(ImproperlyConfigured):
        TwilioConfig(account_sid="AC1", auth_token="t")


def test_config_from_settings(settings: object) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC9"  # type: ignore[attr-defined]
    settings.TWILIO_AUTH_TOKEN = "token"  # type: ignore[attr-defined]
    settings.TWILIO_FROM_NUMBER = SENDER  # type: ignore[attr-defined]
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    settings.TWILIO_COVERED_BY_BAA = True  # type: ignore[attr-defined]

    adapter = TwilioSmsAdapter.from_settings()

    assert (adapter.config.account_sid, adapter.config.api_base_url) == (
        "AC9",
        "http://127.0.0.1:9",
    )
    assert (adapter.covered_by_baa, adapter.reconciles, adapter.channel) == (
        True,
        True,
        ChannelKind.SMS,
    )


def test_no_number_reaches_the_logs(twilio: FakeTwilio, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")  # urllib3 itself logs URLs at DEBUG, which no deployment runs
    adapter = make_adapter(twilio)
    since = datetime.now(UTC)
    adapter.send(sms())
    adapter.find_sent(sms(), since=since)

    assert "5555550123" not in caplog.text


def test_voice_calls_and_reads_the_body_escaped(twilio: FakeTwilio) -> None:
    adapter = TwilioVoiceAdapter(
        TwilioConfig(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            from_number=SENDER,
            api_base_url=twilio.base_url,
        )
    )
    since = datetime.now(UTC)
    message = OutgoingMessage(
        reference="v1", channel=ChannelKind.VOICE, to=PATIENT, body="Visit Tue <9:00> & bring ID"
    )

    result = adapter.send(message)
    found = adapter.find_sent(message, since=since)

    [call] = twilio.called(PATIENT)
    assert call.body == "<Response><Say>Visit Tue &lt;9:00&gt; &amp; bring ID</Say></Response>"
    assert result.provider_message_id == call.sid
    assert found is not None
    assert found.provider_message_id == call.sid
    assert adapter.find_sent(message, since=since + timedelta(minutes=10)) is None
    assert twilio.sent_to(PATIENT) == []


def test_voice_needs_a_from_number(twilio: FakeTwilio) -> None:
    with pytest.raises(ImproperlyConfigured):
        TwilioVoiceAdapter(
            TwilioConfig(account_sid="AC1", auth_token="t", messaging_service_sid="MG1")
        )
