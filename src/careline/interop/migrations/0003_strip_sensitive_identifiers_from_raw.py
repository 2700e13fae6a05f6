"""Sensitive identifiers (the SSN) out of every stored raw resource and out of the registry's
plain identifiers (security review, issue 7).

Imports no longer store them; this removes them from rows stored before (an SSN found only
among a patient's identifiers moves to her encrypted ``ssn``). Not atomic: each
batch commits on its own, and SQLite is vacuumed afterwards (VACUUM cannot run in a
transaction) so the old values do not linger in free pages of the database file.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from careline.interop.fhir.sensitive import remove_stored_identifiers, strip_stored_rows


def strip_sensitive_identifiers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    changed = 0
    for model in apps.get_models():
        names = {field.name for field in model._meta.get_fields()}
        if {"raw", "content_hash", "source_id"} <= names:
            changed += strip_stored_rows(model)
    changed += remove_stored_identifiers(
        apps.get_model("patients", "PatientIdentifier"), apps.get_model("patients", "Patient")
    )
    if changed and schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("interop", "0002_initial"),
        ("identity", "0002_initial"),
        ("clinical", "0002_initial"),
        ("directory", "0001_initial"),
        ("patients", "0004_search_name_index"),
    ]

    operations = [
        migrations.RunPython(strip_sensitive_identifiers, migrations.RunPython.noop, elidable=True)
    ]
