"""PostgreSQL only: covering indexes so the trace's recursive walk reads link quantities from the index
alone (index-only scans), in both directions. SQLite keeps the plain indexes of 0001."""

from django.db import migrations

INDEXES = {
    "trace_link_fwd_cover": "(parent_id, child_id) INCLUDE (quantity)",
    "trace_link_back_cover": "(child_id, parent_id) INCLUDE (quantity)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON traceability_lotlink {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("traceability", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
