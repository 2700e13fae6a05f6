"""Field encryption at rest and ``careline rotate_field_keys``.

The platform may not import the patient registry (layer rule), so patients are made through
the app registry here, as the command finds its fields.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from careline.platform import crypto
from careline.platform.management.commands.rotate_field_keys import encrypted_columns
from careline.platform.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SSNS = ["123-45-6789", "987-65-4321", "555-12-3456"]


def make_patient(ssn: str | None) -> Any:
    patient_model = apps.get_model("patients", "Patient")
    now = timezone.now()
    return patient_model.objects.create(
        given_names="Robert",
        family_name="Jones",
        ssn=ssn,
        received_at=now,
        created_at=now,
        updated_at=now,
    )


def stored_ssns() -> dict[int, str | None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ssn FROM patients_patient ORDER BY id")
        return dict(cursor.fetchall())


def read_ssns() -> list[str | None]:
    patient_model = apps.get_model("patients", "Patient")
    return list(patient_model.objects.order_by("pk").values_list("ssn", flat=True))


def test_encrypted_fields_are_found_through_the_app_registry() -> None:
    assert [column.label for column in encrypted_columns()] == ["patients.Patient.ssn"]


def test_values_round_trip_and_the_column_holds_no_plaintext() -> None:
    patient = make_patient(SSNS[0])

    stored = stored_ssns()[patient.pk]

    assert stored is not None
    assert SSNS[0] not in stored and "6789" not in stored
    assert crypto.decrypt(stored) == SSNS[0]
    assert apps.get_model("patients", "Patient").objects.get(pk=patient.pk).ssn == SSNS[0]


def test_rotation_lets_the_old_key_go(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    for ssn in [*SSNS, None]:
        make_patient(ssn)
    before = stored_ssns()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(InvalidToken):
        read_ssns()  # without rotation, dropping the old key would lose the values

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()
    call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]

    assert read_ssns() == [*SSNS, None]
    after = stored_ssns()
    changed = [pk for pk in before if before[pk] != after[pk]]
    assert len(changed) == 3
    assert all(SSNS[i] not in str(after[pk]) for i, pk in enumerate(changed))
    assert out.getvalue() == (
        "patients.Patient.ssn: re-encrypted 3 values\nDone: 3 values now under the first key.\n"
    )
    event = AuditEvent.objects.get(resource_type="EncryptedField")
    assert (event.action, event.resource_id, event.details["rows"], event.actor_label) == (
        AuditAction.UPDATE,
        "patients.Patient.ssn",
        3,
        "careline rotate_field_keys",
    )


def test_rotation_twice_is_harmless(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    make_patient(SSNS[0])

    call_command("rotate_field_keys", stdout=io.StringIO())
    call_command("rotate_field_keys", stdout=io.StringIO())

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert read_ssns() == [SSNS[0]]


def test_a_blank_value_round_trips() -> None:
    patient = make_patient("")

    assert apps.get_model("patients", "Patient").objects.get(pk=patient.pk).ssn == ""
