"""On PostgreSQL, trigram indexes make name-fragment search fast at a million patients."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS patient_search_name_trgm
    ON patients_patient USING gin (search_name gin_trgm_ops);
"""

DROP = "DROP INDEX IF EXISTS patient_search_name_trgm;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
