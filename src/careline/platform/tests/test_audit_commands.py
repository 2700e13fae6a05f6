"""``careline audit verify`` (tamper evidence) and ``careline audit export`` (offline copy)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import Error, connection, transaction
from django.test import override_settings
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit import chain
from careline.platform.audit.chain import linked_fields
from careline.platform.audit.checkpoints import record_last_seal
from careline.platform.audit.triggers import sqlite_trigger_sql
from careline.platform.models import AuditAction, AuditChannel, AuditEvent, Purpose

pytestmark = pytest.mark.django_db

PATIENT = uuid.UUID("7d9f2c1e-4b5a-4c3d-8e2f-1a2b3c4d5e6f")


def write_events(count: int) -> list[AuditEvent]:
    actor = Actor.system("test")
    return [
        audit.record_event(
            actor=actor,
            action=AuditAction.READ,
            resource_type="Patient",
            resource_id=str(PATIENT),
            patient_id=PATIENT,
            details={"n": n},
        )
        for n in range(count)
    ]


def verify(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", *arguments, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def broken(position: int, kind: str, detail: str) -> str:
    return f"Audit trail broken at entry #{position}: {kind} ({detail})\n"


_SQLITE_TRIGGER = sqlite_trigger_sql()


def tamper(sql: str, params: list[Any]) -> None:
    """Run ``sql`` against the audit table as its owner would (append-only trigger off)."""
    is_delete = sql.lstrip().upper().startswith("DELETE")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with pytest.raises(Error, match="append-only"), transaction.atomic():
                cursor.execute(sql, params)  # the append-only trigger refuses
            cursor.execute("ALTER TABLE platform_auditevent DISABLE TRIGGER USER")
            try:
                cursor.execute(sql, params)
            finally:
                cursor.execute("ALTER TABLE platform_auditevent ENABLE TRIGGER USER")
        elif is_delete:  # SQLite keeps DELETE possible (its test flush needs it)
            cursor.execute(sql, params)
        else:
            with pytest.raises(Error, match="append-only"), transaction.atomic():
                cursor.execute(sql, params)
            cursor.execute("DROP TRIGGER platform_auditevent_seal_only")
            try:
                cursor.execute(sql, params)
            finally:
                cursor.execute(_SQLITE_TRIGGER)


def test_intact_trail_exits_0() -> None:
    write_events(20)

    assert verify() == (0, "Audit trail: 20 entries verified\nUnsealed: 0\n", "")


def test_empty_trail_is_intact() -> None:
    assert verify() == (0, "Audit trail: 0 entries verified\nUnsealed: 0\n", "")


def test_json_report() -> None:
    write_events(3)

    code, out, err = verify("--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "ok": True,
        "entries_verified": 3,
        "checkpoints": 0,
        "unsealed": 0,
        "oldest_unsealed_seconds": None,
        "unsealed_bound_seconds": 60.0,
        "problem": None,
    }


def test_altered_entry_exits_1_naming_it() -> None:
    write_events(20)

    tamper("UPDATE platform_auditevent SET actor_label = %s WHERE sequence = %s", ["mallory", 17])

    assert AuditEvent.objects.get(sequence=17).actor_label == "mallory"
    assert verify() == (
        1,
        "Audit trail: 16 entries verified\nUnsealed: 0\n",
        broken(17, "altered", "the entry does not match its link hash"),
    )


def test_altered_details_are_caught_too() -> None:
    write_events(5)

    tamper("UPDATE platform_auditevent SET details = %s WHERE sequence = %s", ['{"n": 99}', 3])

    assert verify()[2] == broken(3, "altered", "the entry does not match its link hash")


def test_inserted_entry_exits_1_naming_it() -> None:
    """A forged entry pushed into the middle (later entries renumbered to make room)."""
    events = write_events(6)
    tamper("UPDATE platform_auditevent SET sequence = -sequence WHERE sequence >= %s", [4])
    tamper("UPDATE platform_auditevent SET sequence = 1 - sequence WHERE sequence < %s", [0])
    forged = linked_fields(events[0]) | {"actor_label": "mallory"}
    guessed_key = chain.ChainKey("dev", b"a guess at the key")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO platform_auditevent (sequence, public_id, occurred_at, actor_label, "
            "actor_role, action, resource_type, resource_id, purpose, channel, user_agent, "
            "outcome, is_break_glass, details, previous_hash, hash, key_id) "
            "VALUES (4, %s, %s, 'mallory', '', 'read', 'Patient', '', 'TREAT', 'ui', '', "
            "'success', false, '{}', %s, %s, 'dev')",
            [
                uuid.uuid4().hex if connection.vendor == "sqlite" else str(uuid.uuid4()),
                events[0].occurred_at,
                events[2].hash,
                chain.link_hash(forged, previous_hash=events[2].hash, key=guessed_key),
            ],
        )

    assert AuditEvent.objects.count() == 7
    assert verify()[2] == broken(
        4, "inserted", "this entry is not in the chain: the next entry links to the one before it"
    )


def test_deleted_entry_exits_1_naming_it() -> None:
    write_events(20)

    tamper("DELETE FROM platform_auditevent WHERE sequence = %s", [5])

    assert AuditEvent.objects.count() == 19
    assert verify() == (
        1,
        "Audit trail: 4 entries verified\nUnsealed: 0\n",
        broken(5, "deleted", "entry #5 is missing"),
    )


def test_deleted_entry_with_the_rest_renumbered_is_caught_by_the_link() -> None:
    write_events(6)

    tamper("DELETE FROM platform_auditevent WHERE sequence = %s", [3])
    tamper("UPDATE platform_auditevent SET sequence = -sequence WHERE sequence > %s", [3])
    tamper("UPDATE platform_auditevent SET sequence = -sequence - 1 WHERE sequence < %s", [0])

    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert verify()[2] == broken(
        3,
        "deleted",
        "an entry sealed just before this one is missing (its link points elsewhere)",
    )


def test_entries_deleted_from_the_end_are_caught_by_a_checkpoint(tmp_path: Path) -> None:
    checkpoint_file = tmp_path / "checkpoints.jsonl"
    write_events(10)
    with override_settings(CARELINE_AUDIT_CHECKPOINT_FILE=str(checkpoint_file)):
        record_last_seal()
    assert verify("--checkpoints", str(checkpoint_file))[0] == 0

    tamper("DELETE FROM platform_auditevent WHERE sequence > %s", [7])

    assert verify() == (0, "Audit trail: 7 entries verified\nUnsealed: 0\n", "")  # no anchor
    code, out, err = verify("--checkpoints", str(checkpoint_file))
    assert (code, out) == (
        1,
        "Audit trail: 7 entries verified against 1 checkpoints\nUnsealed: 0\n",
    )
    assert err.startswith("Audit trail broken at entry #8: truncated (the chain ends at #7 but a ")
    assert err.endswith(" saw #10)\n")


def relink_as_mallory(events: list[AuditEvent], key: chain.ChainKey) -> None:
    """Rewrite every entry's actor and rebuild the chain's links with ``key``."""
    previous = chain.GENESIS_HASH
    for event in events:
        event.actor_label = "mallory"
        event.hash = chain.link_hash(linked_fields(event), previous_hash=previous, key=key)
        tamper(
            "UPDATE platform_auditevent SET actor_label = %s, previous_hash = %s, hash = %s "
            "WHERE sequence = %s",
            [event.actor_label, previous, event.hash, event.sequence],
        )
        previous = event.hash


def test_a_chain_rehashed_without_the_key_is_caught() -> None:
    """Someone with database access only rebuilds every link with a key of her own."""
    events = write_events(4)
    own_key = chain.ChainKey("dev", b"not the real key")
    relink_as_mallory(events, own_key)

    assert verify()[2] == broken(1, "altered", "the entry does not match its link hash")


def test_a_rebuilt_chain_differs_from_its_checkpoint(tmp_path: Path) -> None:
    """Even with the key, a rebuilt chain no longer matches what the checkpoint saw."""
    checkpoint_file = tmp_path / "checkpoints.jsonl"
    events = write_events(3)
    with override_settings(CARELINE_AUDIT_CHECKPOINT_FILE=str(checkpoint_file)):
        record_last_seal()
    relink_as_mallory(events, chain.chain_keys()[0])

    assert verify()[0] == 0  # the key holder could rebuild it; only the anchor tells
    code, _out, err = verify("--checkpoints", str(checkpoint_file))
    assert code == 1
    assert err.startswith("Audit trail broken at entry #3: altered (the link differs from the ")


def test_an_entry_sealed_with_a_key_no_longer_held_is_an_unknown_key(settings: Any) -> None:
    write_events(2)

    settings.AUDIT_CHAIN_KEYS = ["2027:a newer key that replaced the development key"]

    assert verify()[2] == broken(
        1, "unknown key", "sealed with key 'dev', which AUDIT_CHAIN_KEYS does not hold"
    )


def test_key_rotation_mid_chain_still_verifies(settings: Any) -> None:
    write_events(3)
    settings.AUDIT_CHAIN_KEYS = ["2027:the new key", *settings.AUDIT_CHAIN_KEYS]
    write_events(2)

    key_ids = list(AuditEvent.objects.order_by("sequence").values_list("key_id", flat=True))
    assert key_ids == ["dev", "dev", "dev", "2027", "2027"]
    assert verify() == (0, "Audit trail: 5 entries verified\nUnsealed: 0\n", "")


def test_an_unsealed_entry_older_than_the_bound_fails_verify(deferred_sealing: None) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        write_events(2)
        clock.shift(59)
        assert verify() == (
            0,
            "Audit trail: 0 entries verified\nUnsealed: 2, the oldest for 59.0 s\n",
            "",
        )
        clock.shift(2)
        code, out, err = verify()
        report = json.loads(verify("--json")[1])

    assert (code, out) == (1, "Audit trail: 0 entries verified\n")
    assert err.startswith("Unsealed: 2, the oldest for 61 s (more than 60 s): is the sealer ")
    assert (report["ok"], report["unsealed"], report["oldest_unsealed_seconds"]) == (False, 2, 61.0)


def test_postgres_trigger_refuses_update_and_delete(postgres_only: None) -> None:
    write_events(2)

    for sql in (
        "UPDATE platform_auditevent SET actor_label = 'x' WHERE sequence = 1",
        "DELETE FROM platform_auditevent WHERE sequence = 2",
    ):
        with (
            pytest.raises(Error, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEvent.objects.count() == 2
    assert verify()[0] == 0


# --- careline audit export ----------------------------------------------------------------


def test_export_csv_to_a_private_file_and_audit_it(tmp_path: Path) -> None:
    write_events(3)
    audit.record_event(
        actor=Actor.system("other"), action=AuditAction.LOGIN, resource_type="Session"
    )
    out = tmp_path / "audit.csv"
    err = io.StringIO()

    call_command("audit_export", export_format="csv", out=str(out), patient=PATIENT, stderr=err)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.reader(out.open(newline="")))
    assert [row[0] for row in rows] == ["sequence", "1", "2", "3"]
    assert err.getvalue() == f"Exported 3 audit entries to {out}\n"
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (export.actor_label, export.channel, export.purpose, export.actor_id) == (
        "careline audit export",
        AuditChannel.CLI,
        Purpose.COMPLIANCE,
        None,
    )
    assert export.details == {"filters": ["patient_id"], "rows": 3, "format": "csv"}


def test_export_fhir_ndjson(tmp_path: Path) -> None:
    write_events(2)
    out = tmp_path / "audit.ndjson"

    call_command("audit_export", "--format", "fhir", "--out", str(out), stderr=io.StringIO())

    lines = out.read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        FhirAuditEvent.model_validate(json.loads(line))


def test_export_to_stdout() -> None:
    write_events(1)
    stdout = io.StringIO()

    call_command(
        "audit_export", "--format", "csv", "--out", "-", stdout=stdout, stderr=io.StringIO()
    )

    assert stdout.getvalue().splitlines()[1].startswith("1,")


def test_export_refuses_reversed_dates_and_unwritable_paths(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"^--date-to is before --date-from\.$"):
        call_command(
            "audit_export",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "a.csv"),
            "--date-from",
            "2026-03-02",
            "--date-to",
            "2026-03-01",
        )
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("audit_export", "--format", "csv", "--out", str(tmp_path / "no" / "a.csv"))
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
