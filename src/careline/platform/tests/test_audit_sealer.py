"""The sealer: entries appended unsealed are linked in one gap-free order, exactly once,
whatever the order their transactions commit in, across crashes and concurrent clients."""

from __future__ import annotations

import functools
import io
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import Error, connection, transaction
from django.test import Client

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.chain import verify_chain
from careline.platform.audit.checkpoints import read_checkpoints
from careline.platform.audit.services import SEAL_BATCH_SIZE, run_sealer, seal_pending
from careline.platform.models import AuditAction, AuditChannel, AuditEvent, User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import PatientFactory

REPOSITORY_ROOT = Path(__file__).resolve().parents[4]
ACTOR = Actor.system("test")


def append(number: int) -> AuditEvent:
    return audit.record_event(
        actor=ACTOR, action=AuditAction.READ, resource_type="Patient", details={"n": number}
    )


def seal_everything() -> int:
    sealed = 0
    while batch := len(seal_pending().events):
        sealed += batch
    return sealed


def positions() -> list[int | None]:
    return list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))


@pytest.mark.django_db
def test_an_entry_is_appended_unsealed_and_sealed_in_order(deferred_sealing: None) -> None:
    appended = [append(n) for n in range(3)]

    assert [(event.sequence, event.hash) for event in appended] == [(None, "")] * 3
    assert verify_chain() == (0, None)

    assert seal_everything() == 3

    sealed = list(AuditEvent.objects.order_by("sequence"))
    assert [event.pk for event in sealed] == [event.pk for event in appended]
    assert [event.sequence for event in sealed] == [1, 2, 3]
    assert [event.key_id for event in sealed] == ["dev"] * 3
    assert sealed[1].previous_hash == sealed[0].hash
    assert verify_chain() == (3, None)
    assert seal_everything() == 0


@pytest.mark.django_db
def test_rolled_back_appends_leave_no_gap(deferred_sealing: None) -> None:
    append(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        append(2)
        raise RuntimeError
    append(3)

    seal_everything()

    sealed = AuditEvent.objects.order_by("sequence").values_list("sequence", "details")
    assert list(sealed) == [(1, {"n": 1}), (2, {"n": 3})]
    assert verify_chain() == (2, None)


@pytest.mark.django_db
def test_the_trigger_allows_the_seal_once_and_nothing_else(deferred_sealing: None) -> None:
    event = append(1)
    refused = [
        # sealing while changing the entry itself
        (
            "UPDATE platform_auditevent SET sequence = 1, actor_label = 'x' WHERE id = %s",
            [event.pk],
        ),
        # changing an unsealed entry
        ("UPDATE platform_auditevent SET details = '{}' WHERE id = %s", [event.pk]),
    ]
    for sql, params in refused:
        with (
            pytest.raises(Error, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)

    seal_everything()

    for sql in (
        "UPDATE platform_auditevent SET sequence = 7 WHERE id = %s",  # sealing again
        "UPDATE platform_auditevent SET hash = 'x' WHERE id = %s",
        "UPDATE platform_auditevent SET sequence = NULL WHERE id = %s",
    ):
        with (
            pytest.raises(Error, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert verify_chain() == (1, None)


@pytest.mark.django_db
def test_the_seal_command_seals_and_writes_a_checkpoint(
    deferred_sealing: None, settings: Any, tmp_path: Path
) -> None:
    settings.CARELINE_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    for number in range(3):
        append(number)
    out = io.StringIO()

    call_command("audit_seal", stdout=out)

    assert out.getvalue() == "Sealed 3 audit entries; the chain reaches #3\n"
    (checkpoint,) = read_checkpoints(tmp_path / "checkpoints.jsonl")
    last = AuditEvent.objects.get(sequence=3)
    assert (checkpoint.position, checkpoint.hash, checkpoint.key_id) == (3, last.hash, "dev")


# --- PostgreSQL: real transactions, several connections, killed processes ------------------


@pytest.fixture
def committed_database(transactional_db: None) -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip(
            f"needs PostgreSQL (concurrent transactions), this run uses {connection.vendor}"
        )
    others = (
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with connection.cursor() as cursor:
        cursor.execute(others)
        before = [row[0] for row in cursor.fetchall()]
    yield
    # A process killed with SIGKILL may leave its backend finishing a statement; end it, so the
    # test database can be flushed and dropped. Only backends the test started: the ones that
    # were there before (a live server's threads, kept for the session) carry on.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_terminate_backend(pid) FROM ({others}) AS started "  # noqa: S608
            "WHERE NOT (pid = ANY(%s))",
            [before],
        )


def in_thread(work: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_entries_committed_out_of_id_order_are_sealed_in_commit_order(
    committed_database: None, deferred_sealing: None
) -> None:
    appended, may_commit = threading.Event(), threading.Event()
    early: list[AuditEvent] = []

    def slow_transaction() -> None:
        with transaction.atomic():
            early.append(append(1))
            appended.set()
            may_commit.wait(timeout=10)

    thread = in_thread(slow_transaction)
    assert appended.wait(timeout=10)
    late = append(2)  # a higher id, committed first

    assert seal_everything() == 1  # the entry still in flight is not seen
    may_commit.set()
    thread.join()
    assert seal_everything() == 1

    order = list(AuditEvent.objects.order_by("sequence").values_list("pk", "sequence"))
    assert early[0].pk < late.pk
    assert order == [(late.pk, 1), (early[0].pk, 2)]
    assert verify_chain() == (2, None)


def test_eight_clients_and_two_sealers_give_one_order_each_entry_once(
    committed_database: None, deferred_sealing: None
) -> None:
    """Eight API clients read a patient and add contact details (each request audited in its
    own transaction) while an audited transaction of theirs rolls back now and then; two
    sealers run at once."""
    clients, per_client = 8, 15
    patient = PatientFactory.create()
    tokens = []
    for index in range(clients):
        agent = User.objects.create(username=f"agent{index}", role=Role.CONTACT_CENTER_AGENT)
        tokens.append(issue_api_token(actor=ACTOR, user=agent, name="load").secret)
    before = AuditEvent.objects.count()  # the tokens' issue
    statuses: list[list[int]] = [[] for _ in range(clients)]
    stop = threading.Event()
    sealers = [in_thread(lambda: run_sealer(stop=stop, interval=0.01)) for _ in range(2)]

    def client(index: int) -> None:
        api = Client(headers={"Authorization": f"Bearer {tokens[index]}"})
        path = f"/api/patients/{patient.public_id}"
        for number in range(per_client):
            statuses[index].append(api.get(path).status_code)
            written = api.post(
                f"{path}/contact-points",
                {"system": "email", "value": f"agent{index}.{number}@example.org"},
                content_type="application/json",
            )
            statuses[index].append(written.status_code)
            with pytest.raises(RuntimeError), transaction.atomic():
                append(number)
                raise RuntimeError  # a failed request: its entry rolls back

    threads = [in_thread(functools.partial(client, index)) for index in range(clients)]
    for thread in threads:
        thread.join()
    stop.set()
    for sealer in sealers:
        sealer.join()
    seal_everything()

    assert [sorted(set(codes)) for codes in statuses] == [[200, 201]] * clients
    total = before + clients * per_client * 2
    by_agents = AuditEvent.objects.filter(actor__username__startswith="agent")
    assert by_agents.filter(action=AuditAction.READ).count() == clients * per_client
    assert by_agents.filter(action=AuditAction.CREATE).count() == clients * per_client
    assert AuditEvent.objects.count() == total
    assert positions() == list(range(1, total + 1))
    assert verify_chain() == (total, None)


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def _child_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "careline.config.settings",
        "PYTHONPATH": str(REPOSITORY_ROOT / "src"),
        "CARELINE_AUDIT_SEAL_ON_APPEND": "false",
        "CARELINE_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "DEBUG": "false",
        **extra,
    }


# Audited API reads in a loop; after each 200 response it prints the request's number.
_READER = """
import os, django
django.setup()
from django.test import Client
client = Client(headers={"Authorization": "Bearer " + os.environ["TEST_TOKEN"]})
path = "/api/patients/" + os.environ["TEST_PATIENT"]
number = 0
while True:
    number += 1
    if client.get(path).status_code == 200:
        print(number, flush=True)
"""


def test_a_killed_server_loses_no_entry_of_a_read_it_answered(
    committed_database: None, deferred_sealing: None, tmp_path: Path
) -> None:
    user = User.objects.create(username="integration", role=Role.INTEGRATION)
    token = issue_api_token(actor=ACTOR, user=user, name="crash test").secret
    patient = PatientFactory.create()
    child = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", _READER],
        env=_child_environment(tmp_path, TEST_TOKEN=token, TEST_PATIENT=str(patient.public_id)),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    answered = [child.stdout.readline() for _ in range(60)]
    child.send_signal(signal.SIGKILL)
    answered += child.stdout.readlines()  # whatever it printed before it died
    child.wait()

    reads = AuditEvent.objects.filter(actor=user, action=AuditAction.READ)
    assert [line.strip() for line in answered] == [str(n) for n in range(1, len(answered) + 1)]
    # Each answered read committed its entry; the one in flight may have committed too.
    assert reads.count() in (len(answered), len(answered) + 1)
    assert {event.channel for event in reads} == {AuditChannel.API}
    seal_everything()
    assert verify_chain()[1] is None


def test_a_sealer_killed_mid_seal_resumes_and_the_chain_verifies(
    committed_database: None, deferred_sealing: None, tmp_path: Path
) -> None:
    total = SEAL_BATCH_SIZE * 6
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                occurred_at="2026-03-02T09:00:00+00:00",
                actor_label="bulk",
                action=AuditAction.READ,
                resource_type="Patient",
                resource_id=str(uuid.UUID(int=number)),
                purpose="TREAT",
                channel=AuditChannel.API,
            )
            for number in range(total)
        ]
    )
    sealer = subprocess.Popen(
        [sys.executable, "-m", "careline.config.cli", "audit", "seal", "--follow"],
        env=_child_environment(tmp_path),
    )
    sealed = AuditEvent.objects.filter(sequence__isnull=False)
    while not sealed.exists() and sealer.poll() is None:
        threading.Event().wait(0.01)
    sealer.send_signal(signal.SIGKILL)
    sealer.wait()
    interrupted_at = sealed.count()

    assert 0 < interrupted_at < total
    assert verify_chain() == (interrupted_at, None)
    seal_everything()
    assert positions() == list(range(1, total + 1))
    assert verify_chain() == (total, None)
