"""The access log is evidence (qms_refuse_change() comes from 0002): PostgreSQL refuses UPDATE, DELETE and TRUNCATE on it.

TRUNCATE is allowed only where the database setting `qms.allow_evidence_truncate` is "on" (the test
databases, whose flushes truncate every table; conftest.py sets it). Never set it in production."""

from django.db import migrations

TABLE = "compliance_accessevent"

SQL = f"""
CREATE OR REPLACE FUNCTION qms_refuse_truncate() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('qms.allow_evidence_truncate', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'The table % is append-only: TRUNCATE is not allowed (regulated evidence).', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION qms_refuse_change();
CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION qms_refuse_truncate();
"""

REVERSE = f"""
DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};
DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_access_event")]
    operations = [migrations.RunPython(forwards, backwards)]
