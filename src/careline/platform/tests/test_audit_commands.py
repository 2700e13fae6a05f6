"""``careline audit verify`` (tamper evidence) and ``careline audit export`` (offline copy)."""

from __future__ import annotations

import csv
import io
import json
import stat
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import Error, connection, transaction
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from careline.platform import audit
from careline.platform.actors import Actor
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


def verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def tamper(sql: str, params: list[str | int]) -> None:
    """Run ``sql`` against the audit table as its owner would (append-only trigger off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with pytest.raises(Error), transaction.atomic():
                cursor.execute(sql, params)  # the append-only trigger refuses
            cursor.execute("ALTER TABLE platform_auditevent DISABLE TRIGGER USER")
            try:
                cursor.execute(sql, params)
            finally:
                cursor.execute("ALTER TABLE platform_auditevent ENABLE TRIGGER USER")
        else:
            cursor.execute(sql, params)


def test_intact_trail_exits_0() -> None:
    write_events(20)

    assert verify() == (0, "Audit trail intact: 20 entries\n", "")


def test_empty_trail_is_intact() -> None:
    assert verify() == (0, "Audit trail intact: 0 entries\n", "")


def test_altered_entry_exits_1_naming_it() -> None:
    write_events(20)

    tamper("UPDATE platform_auditevent SET actor_label = %s WHERE sequence = %s", ["mallory", 17])

    assert AuditEvent.objects.get(sequence=17).actor_label == "mallory"
    assert verify() == (
        1,
        "",
        "Audit trail broken at entry #17: entry was altered (hash mismatch)\n",
    )


def test_altered_details_are_caught_too() -> None:
    write_events(5)

    tamper("UPDATE platform_auditevent SET details = %s WHERE sequence = %s", ['{"n": 99}', 3])

    assert verify()[2] == "Audit trail broken at entry #3: entry was altered (hash mismatch)\n"


def test_deleted_entry_exits_1_naming_it() -> None:
    write_events(20)

    tamper("DELETE FROM platform_auditevent WHERE sequence = %s", [5])

    assert AuditEvent.objects.count() == 19
    assert verify() == (1, "", "Audit trail broken at entry #5: entry is missing\n")


def test_rehashed_entry_breaks_the_link_to_the_next(db: None) -> None:
    """A tamperer who also recomputes the altered entry's hash is caught at the next one."""
    events = write_events(5)
    forged = events[2]
    forged.actor_label = "mallory"
    forged.hash = audit._digest(forged.chained_fields())

    tamper(
        "UPDATE platform_auditevent SET actor_label = %s, hash = %s WHERE sequence = %s",
        [forged.actor_label, forged.hash, forged.sequence],
    )

    assert verify()[2] == (
        "Audit trail broken at entry #4: previous_hash does not match the entry before\n"
    )


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
