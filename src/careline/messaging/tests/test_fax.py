"""The Phaxio fax adapter and its callbacks, against a local Phaxio stand-in over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from careline.messaging.channels.base import (
    ChannelKind,
    FailureKind,
    InboundMessage,
    OutgoingMessage,
    PermanentFailure,
    TransientFailure,
)
from careline.messaging.channels.fax import (
    PhaxioConfig,
    PhaxioFaxAdapter,
    PhaxioWebhookVerifier,
)
from careline.messaging.channels.provider_http import (
    DEFAULT_RATE_LIMIT_RETRY_SECONDS,
    WebhookPayloadError,
)
from careline.messaging.testing.fake_phaxio import FakePhaxio, FaxBehaviour
from careline.messaging.tests.callback_sink import CallbackSink

CLINIC = "+15555550777"


@pytest.fixture
def phaxio() -> Iterator[FakePhaxio]:
    with FakePhaxio() as server:
        yield server


def make_adapter(server: FakePhaxio, timeout_seconds: float = 2.0) -> PhaxioFaxAdapter:
    return PhaxioFaxAdapter(
        PhaxioConfig(
            api_key=server.api_key,
            api_secret=server.api_secret,
            caller_id="+15555550100",
            api_base_url=server.api_base_url,
            timeout_seconds=timeout_seconds,
        )
    )


def fax(reference: str = "ref-1", to: str = CLINIC, **fields: object) -> OutgoingMessage:
    return OutgoingMessage(
        reference=reference,
        channel=ChannelKind.FAX,
        to=to,
        body="Referral letter",
        **fields,  # type: ignore[arg-type]
    )


def test_send_uploads_the_body_tagged_with_the_reference(phaxio: FakePhaxio) -> None:
    result = make_adapter(phaxio).send(fax())

    [sent] = phaxio.sent_to(CLINIC)
    assert result.provider_message_id == str(sent.id)
    assert result.status == "queued"
    assert (sent.document, sent.tags, sent.caller_id) == (
        b"Referral letter",
        {"careline_reference": "ref-1"},
        "+15555550100",
    )


def test_a_content_url_is_sent_instead_of_the_body(phaxio: FakePhaxio) -> None:
    make_adapter(phaxio).send(fax(headers={"content_url": "https://careline.example/d/1"}))

    [sent] = phaxio.sent_to(CLINIC)
    assert (sent.content_url, sent.document) == ("https://careline.example/d/1", b"")


def test_an_invalid_number_is_permanent(phaxio: FakePhaxio) -> None:
    phaxio.behaviours[CLINIC] = FaxBehaviour.INVALID

    with pytest.raises(PermanentFailure) as raised:
        make_adapter(phaxio).send(fax())

    assert (raised.value.kind, raised.value.code) == (FailureKind.INVALID_ADDRESS, "422")
    assert phaxio.sent_to(CLINIC) == []


def test_rate_limited_is_transient_with_retry_after(phaxio: FakePhaxio) -> None:
    phaxio.behaviours[CLINIC] = FaxBehaviour.RATE_LIMITED

    with pytest.raises(TransientFailure) as raised:
        make_adapter(phaxio).send(fax())
    phaxio.retry_after = ""
    with pytest.raises(TransientFailure) as without_header:
        make_adapter(phaxio).send(fax())

    assert (raised.value.kind, raised.value.retry_after) == (FailureKind.RATE_LIMITED, 9.0)
    assert without_header.value.retry_after == DEFAULT_RATE_LIMIT_RETRY_SECONDS


@pytest.mark.parametrize("secret", ["wrong", None])
def test_server_errors_and_bad_credentials_are_transient(
    phaxio: FakePhaxio, secret: str | None
) -> None:
    adapter = make_adapter(phaxio)
    if secret is None:
        phaxio.behaviours[CLINIC] = FaxBehaviour.SERVER_ERROR
    else:
        adapter = PhaxioFaxAdapter(
            PhaxioConfig(
                api_key=phaxio.api_key, api_secret=secret, api_base_url=phaxio.api_base_url
            )
        )

    with pytest.raises(TransientFailure) as raised:
        adapter.send(fax())

    assert (raised.value.kind, raised.value.code) == (
        FailureKind.UNAVAILABLE,
        "500" if secret is None else "401",
    )


def test_find_sent_recognises_a_fax_whose_answer_was_lost(phaxio: FakePhaxio) -> None:
    adapter = make_adapter(phaxio, timeout_seconds=0.3)
    since = datetime.now(UTC)
    phaxio.behaviours[CLINIC] = FaxBehaviour.HANG

    with pytest.raises(TransientFailure) as raised:
        adapter.send(fax())
    found = adapter.find_sent(fax(), since=since)

    [lost] = phaxio.sent_to(CLINIC)
    assert raised.value.code == "timeout"
    assert found is not None
    assert (found.provider_message_id, found.status) == (str(lost.id), "queued")


def test_find_sent_is_none_for_a_fax_never_accepted_or_sent_before(phaxio: FakePhaxio) -> None:
    adapter = make_adapter(phaxio)
    adapter.send(fax(reference="old"))
    since = datetime.now(UTC) + timedelta(minutes=10)
    adapter.send(fax(reference="other"))

    assert adapter.find_sent(fax(reference="never"), since=datetime.now(UTC)) is None
    assert adapter.find_sent(fax(reference="old"), since=since) is None


@pytest.fixture
def sink(phaxio: FakePhaxio) -> Iterator[CallbackSink]:
    verifier = PhaxioWebhookVerifier(phaxio.callback_token)
    with CallbackSink(verifier.verify, "X-Phaxio-Signature") as server:
        yield server


def test_status_callbacks_verify_and_parse(phaxio: FakePhaxio, sink: CallbackSink) -> None:
    phaxio.behaviours["+15555550888"] = FaxBehaviour.FAILED
    adapter = make_adapter(phaxio)
    delivered = adapter.send(fax(status_callback_url=f"{sink.base_url}/hooks/fax"))
    failed = adapter.send(fax(to="+15555550888", status_callback_url=f"{sink.base_url}/hooks/fax"))

    assert phaxio.send_status_callbacks() == [204, 204]

    verifier = PhaxioWebhookVerifier(phaxio.callback_token)
    reports = [verifier.parse_status(params) for _, params in sink.accepted]
    assert [(r.provider_message_id, r.status, r.error_code, r.error_kind) for r in reports] == [
        (delivered.provider_message_id, "delivered", "", None),
        (failed.provider_message_id, "failed", "34", FailureKind.UNAVAILABLE),
    ]
    assert all(report.occurred_at is not None for report in reports)


def test_a_callback_signed_with_another_token_is_refused(sink: CallbackSink) -> None:
    with FakePhaxio(callback_token="not-ours") as impostor:
        answer = impostor.send_inbound(f"{sink.base_url}/hooks/fax", sender=CLINIC, to="+1555")

    assert (answer, sink.refused, sink.accepted) == (403, 1, [])


def test_received_fax_parses_to_an_inbound_message(phaxio: FakePhaxio, sink: CallbackSink) -> None:
    phaxio.send_inbound(f"{sink.base_url}/hooks/fax", sender=CLINIC, to="+15555550100")

    [(_, params)] = sink.accepted
    inbound = PhaxioWebhookVerifier(phaxio.callback_token).parse_inbound(params)
    fax_id = str(json.loads(params["fax"])["id"])
    assert inbound == InboundMessage(
        channel=ChannelKind.FAX,
        sender=CLINIC,
        recipient="+15555550100",
        body="",
        provider_message_id=fax_id,
        received_at=inbound.received_at,
    )
    assert inbound.received_at is not None


def test_the_signature_covers_files_and_every_parameter() -> None:
    verifier = PhaxioWebhookVerifier("token")
    url = "https://careline.example/hooks/fax"
    params = {"direction": "received", "fax": '{"id": 5}'}
    signature = verifier.sign(url, params, [("file", b"%PDF-1.4")])

    assert verifier.verify(url, params, signature, files=[("file", b"%PDF-1.4")]) is True
    assert verifier.verify(url, params, signature, files=[("file", b"%PDF-1.5")]) is False
    assert verifier.verify(url, {**params, "direction": "sent"}, signature) is False
    assert verifier.verify(url, params, "") is False


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "The callback's fax is not JSON."),
        ({"fax": "[]"}, "The callback names no fax."),
        ({"fax": '{"id": 3, "status": "teleported"}'}, "Unknown fax status 'teleported'."),
    ],
)
def test_malformed_fax_callbacks_raise_a_payload_error(params: dict[str, str], error: str) -> None:
    with pytest.raises(WebhookPayloadError) as raised:
        PhaxioWebhookVerifier("token").parse_status(params)

    assert str(raised.value) == error


def test_config_from_settings(settings: object) -> None:
    settings.PHAXIO_API_KEY = "key"  # type: ignore[attr-defined]
    settings.PHAXIO_API_SECRET = "secret"  # type: ignore[attr-defined]
    settings.PHAXIO_API_BASE_URL = "http://127.0.0.1:9/v2.1"  # type: ignore[attr-defined]

    adapter = PhaxioFaxAdapter.from_settings()

    assert adapter.config.api_base_url == "http://127.0.0.1:9/v2.1"
    assert (adapter.covered_by_baa, adapter.reconciles, adapter.channel) == (
        False,
        True,
        ChannelKind.FAX,
    )
