"""On PostgreSQL, the audit table refuses UPDATE and DELETE of any row (append-only).

TRUNCATE stays possible for the table's owner only (test databases are flushed with it); the
application's database role in production should not own the table.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION careline_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'platform_auditevent is append-only: %% is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER platform_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON platform_auditevent
    FOR EACH ROW EXECUTE FUNCTION careline_audit_append_only();
"""

ALLOW = """
DROP TRIGGER IF EXISTS platform_auditevent_no_update_delete ON platform_auditevent;
DROP FUNCTION IF EXISTS careline_audit_append_only();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("platform", "0001_initial")]
    operations = [migrations.RunPython(forbid, allow)]
