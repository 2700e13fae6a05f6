"""Twilio's callbacks: signatures checked over real HTTP, statuses and inbound texts parsed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator

import pytest
from django.http import QueryDict

from careline.messaging.channels.base import (
    ChannelKind,
    DeliveryReport,
    FailureKind,
    InboundMessage,
    OutgoingMessage,
)
from careline.messaging.channels.provider_http import (
    WebhookSignatureError,
    verified_inbound,
    verified_status,
)
from careline.messaging.channels.sms import (
    TwilioConfig,
    TwilioSmsAdapter,
    TwilioVoiceAdapter,
    reference_from_callback_url,
)
from careline.messaging.channels.twilio_webhooks import TwilioWebhookVerifier, WebhookPayloadError
from careline.messaging.testing.fake_twilio import Behaviour, FakeTwilio
from careline.messaging.tests.callback_sink import CallbackSink

PATIENT = "+15555550123"
SENDER = "+15555550100"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def sink(twilio: FakeTwilio) -> Iterator[CallbackSink]:
    verifier = TwilioWebhookVerifier(twilio.auth_token)
    with CallbackSink(verifier.verify, "X-Twilio-Signature") as server:
        yield server


def send(twilio: FakeTwilio, sink: CallbackSink, reference: str) -> str:
    adapter = TwilioSmsAdapter(
        TwilioConfig(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            from_number=SENDER,
            api_base_url=twilio.base_url,
        )
    )
    message = OutgoingMessage(
        reference=reference,
        channel=ChannelKind.SMS,
        to=PATIENT,
        body="Reminder",
        status_callback_url=f"{sink.base_url}/hooks/twilio/status",
    )
    return adapter.send(message).provider_message_id


def test_signed_status_callbacks_verify_and_parse(twilio: FakeTwilio, sink: CallbackSink) -> None:
    sid = send(twilio, sink, "ref-7")

    assert twilio.send_status_callbacks() == [204, 204]

    verifier = TwilioWebhookVerifier(twilio.auth_token)
    reports = [verifier.parse_status(params) for _, params in sink.accepted]
    assert reports == [
        DeliveryReport(provider_message_id=sid, status="sent"),
        DeliveryReport(provider_message_id=sid, status="delivered"),
    ]
    assert [reference_from_callback_url(url) for url, _ in sink.accepted] == ["ref-7", "ref-7"]


def test_a_filtered_message_reports_failed_with_its_kind(
    twilio: FakeTwilio, sink: CallbackSink
) -> None:
    twilio.behaviours[PATIENT] = Behaviour.FILTERED
    sid = send(twilio, sink, "ref-8")
    twilio.send_status_callbacks()

    [(_, params)] = sink.accepted
    report = TwilioWebhookVerifier(twilio.auth_token).parse_status(params)
    assert report == DeliveryReport(
        provider_message_id=sid,
        status="failed",
        error_code="30007",
        error_kind=FailureKind.FILTERED,
    )


def test_a_callback_signed_with_another_token_is_refused(sink: CallbackSink) -> None:
    with FakeTwilio(auth_token="someone-elses-token") as impostor:
        answer = impostor.send_inbound(
            f"{sink.base_url}/hooks/twilio/inbound", sender=PATIENT, to=SENDER, body="STOP"
        )

    assert (answer, sink.refused, sink.accepted) == (403, 1, [])


def test_a_tampered_parameter_fails_verification(twilio: FakeTwilio) -> None:
    verifier = TwilioWebhookVerifier(twilio.auth_token)
    url = "https://careline.example/hooks/twilio/inbound"
    params = {"From": PATIENT, "To": SENDER, "Body": "C", "MessageSid": "SM1"}
    signature = twilio.sign(url, params)

    assert verifier.verify(url, params, signature) is True
    assert verifier.verify(url, {**params, "Body": "X"}, signature) is False
    assert verifier.verify(url + "?careline_ref=other", params, signature) is False
    assert verifier.verify(url, params, "") is False


def test_inbound_text_verifies_and_parses(twilio: FakeTwilio, sink: CallbackSink) -> None:
    answer = twilio.send_inbound(
        f"{sink.base_url}/hooks/twilio/inbound", sender=PATIENT, to=SENDER, body=" Stop "
    )

    [(_, params)] = sink.accepted
    inbound = TwilioWebhookVerifier(twilio.auth_token).parse_inbound(params)
    assert answer == 204
    assert inbound == InboundMessage(
        channel=ChannelKind.SMS,
        sender=PATIENT,
        recipient=SENDER,
        body=" Stop ",
        provider_message_id=params["MessageSid"],
    )


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"MessageStatus": "delivered"}, "The callback has no MessageSid."),
        (
            {"MessageSid": "SM1", "MessageStatus": "teleported"},
            "Unknown message status 'teleported'.",
        ),
        ({"MessageSid": "SM1"}, "Unknown message status ''."),
    ],
)
def test_malformed_status_callbacks_raise_a_payload_error(
    params: dict[str, str], error: str
) -> None:
    with pytest.raises(WebhookPayloadError) as raised:
        TwilioWebhookVerifier("token").parse_status(params)

    assert str(raised.value) == error


def test_an_inbound_text_without_a_sender_raises_a_payload_error() -> None:
    with pytest.raises(WebhookPayloadError) as raised:
        TwilioWebhookVerifier("token").parse_inbound({"To": SENDER, "MessageSid": "SM1"})

    assert str(raised.value) == "The callback has no From."


def test_an_unknown_error_code_is_rejected_and_none_is_none() -> None:
    verifier = TwilioWebhookVerifier("token")
    unknown = verifier.parse_status(
        {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "39999"}
    )
    clean = verifier.parse_status({"MessageSid": "SM1", "MessageStatus": "read"})

    assert (unknown.error_kind, clean.error_kind, clean.status) == (
        FailureKind.REJECTED,
        None,
        "read",
    )


def test_a_voice_call_callback_parses(twilio: FakeTwilio, sink: CallbackSink) -> None:
    adapter = TwilioVoiceAdapter(
        TwilioConfig(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            from_number=SENDER,
            api_base_url=twilio.base_url,
        )
    )
    message = OutgoingMessage(
        reference="v2",
        channel=ChannelKind.VOICE,
        to=PATIENT,
        body="Reminder",
        status_callback_url=f"{sink.base_url}/hooks/twilio/status",
    )
    sid = adapter.send(message).provider_message_id

    assert twilio.send_status_callbacks() == [204]
    [(url, params)] = sink.accepted
    report = TwilioWebhookVerifier(twilio.auth_token).parse_status(params)
    assert report == DeliveryReport(provider_message_id=sid, status="delivered")
    assert reference_from_callback_url(url) == "v2"


def test_a_django_querydict_with_repeated_parameters_verifies(twilio: FakeTwilio) -> None:
    url = "https://careline.example/hooks/twilio/inbound"
    received = QueryDict(mutable=True)
    received.update({"From": PATIENT, "To": SENDER, "Body": "C", "MessageSid": "SM1"})
    received.setlist("MediaUrl", ["https://m.example/b", "https://m.example/a"])
    signed = (
        url
        + "BodyC"
        + f"From{PATIENT}"
        + "MediaUrlhttps://m.example/a"
        + "MediaUrlhttps://m.example/b"
        + "MessageSidSM1"
        + f"To{SENDER}"
    )
    digest = hmac.new(twilio.auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(digest).decode()

    assert TwilioWebhookVerifier(twilio.auth_token).verify(url, received, signature) is True


def test_the_view_entry_points_refuse_before_parsing(twilio: FakeTwilio) -> None:
    verifier = TwilioWebhookVerifier(twilio.auth_token)
    url = "https://careline.example/hooks/twilio/status?careline_ref=r1"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}

    report = verified_status(verifier, url=url, params=params, signature=twilio.sign(url, params))
    with pytest.raises(WebhookSignatureError):
        verified_status(verifier, url=url, params=params, signature="forged")
    with pytest.raises(WebhookSignatureError):
        verified_inbound(verifier, url=url, params={"garbage": "x"}, signature="forged")
    inbound_params = {"From": PATIENT, "To": SENDER, "Body": "HELP", "MessageSid": "SM2"}
    inbound = verified_inbound(
        verifier, url=url, params=inbound_params, signature=twilio.sign(url, inbound_params)
    )

    assert report == DeliveryReport(provider_message_id="SM1", status="delivered")
    assert (inbound.sender, inbound.body) == (PATIENT, "HELP")
