"""The access log is evidence: PostgreSQL refuses UPDATE, DELETE and TRUNCATE on it, with the same
trigger functions as the other evidence tables (qms_refuse_change from 0002, qms_refuse_truncate from
0004: only a superuser session that sets qms.allow_evidence_truncate, the test suite's flush, passes)."""

from django.db import migrations

TABLE = "compliance_accessevent"

SQL = f"""
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
    dependencies = [("compliance", "0005_access_event")]
    operations = [migrations.RunPython(forwards, backwards)]
