"""Audit entries are appended unsealed and sealed later by the sealer (keyed HMAC links).

The append-only triggers now allow exactly one UPDATE per entry, its seal: from unsealed
(``sequence`` null) to sealed, changing only the seal columns. Every other UPDATE and every
DELETE is refused, on PostgreSQL and on SQLite (SQLite: UPDATE only — Django empties tables
with DELETE there when a test database is flushed; PostgreSQL flushes with TRUNCATE, which
stays possible for the table's owner only).

On SQLite the trigger is written again after every ``migrate`` from the model
(``platform.audit.triggers``): a table rebuild by a later migration drops it.

Entries written before this migration were linked with plain SHA-256 (no key). Their seals
are cleared here and the sealer links them again, in their old order, with the HMAC key:
run ``careline audit verify`` before upgrading to check the old chain one last time.
"""

from django.db import migrations, models

SEAL_COLUMNS = ("sequence", "previous_hash", "hash", "key_id", "sealed_at")
# The columns an entry is born with; the SQLite trigger names them one by one.
ENTRY_COLUMNS = (
    "id",
    "public_id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "actor_role",
    "action",
    "resource_type",
    "resource_id",
    "patient_id",
    "purpose",
    "channel",
    "remote_addr",
    "user_agent",
    "outcome",
    "is_break_glass",
    "details",
)

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION careline_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY[{seal}]) = (to_jsonb(OLD) - ARRAY[{seal}]) THEN
        RETURN NEW;  -- the seal
    END IF;
    RAISE EXCEPTION 'platform_auditevent is append-only: %% is not allowed (only sealing an '
        'unsealed entry may change it)', TG_OP;
END;
$$ LANGUAGE plpgsql;
""".format(seal=", ".join(f"'{column}'" for column in SEAL_COLUMNS))
POSTGRES_TRIGGER = """
CREATE TRIGGER platform_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON platform_auditevent
    FOR EACH ROW EXECUTE FUNCTION careline_audit_append_only();
"""
POSTGRES_DROP_TRIGGER = (
    "DROP TRIGGER IF EXISTS platform_auditevent_no_update_delete ON platform_auditevent"
)
POSTGRES_0002_FUNCTION = """
CREATE OR REPLACE FUNCTION careline_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'platform_auditevent is append-only: %% is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_TRIGGER = """
CREATE TRIGGER platform_auditevent_seal_only BEFORE UPDATE ON platform_auditevent
WHEN NOT (OLD.sequence IS NULL AND NEW.sequence IS NOT NULL AND {same})
BEGIN
    SELECT RAISE(ABORT, 'platform_auditevent is append-only: UPDATE is not allowed');
END;
""".format(same=" AND ".join(f"NEW.{column} IS OLD.{column}" for column in ENTRY_COLUMNS))
SQLITE_DROP_TRIGGER = "DROP TRIGGER IF EXISTS platform_auditevent_seal_only"


def drop_old_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP_TRIGGER)


def clear_legacy_seals(apps, schema_editor):
    AuditEvent = apps.get_model("platform", "AuditEvent")
    AuditEvent.objects.update(sequence=None, previous_hash="", hash="", key_id="", sealed_at=None)


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION)
        schema_editor.execute(POSTGRES_TRIGGER)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP_TRIGGER)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP_TRIGGER)


def restore_old_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_0002_FUNCTION)
        schema_editor.execute(POSTGRES_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("platform", "0002_audit_append_only")]

    operations = [
        migrations.RunPython(drop_old_trigger, restore_old_trigger),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ("-id",)}),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sealed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["id"],
                name="audit_unsealed",
            ),
        ),
        migrations.RunPython(clear_legacy_seals, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
