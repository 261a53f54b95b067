"""Evidence that cannot be quietly cut (PostgreSQL):

- TRUNCATE is refused by a statement trigger on every evidence table (row triggers never see TRUNCATE).
  Only a superuser session that sets `qms.allow_evidence_truncate = on` passes (the test suite's flush);
  a superuser could disable the trigger anyway, so this opens nothing new.
- The checkpoint table gets the same UPDATE/DELETE guard as the audit trail.
- The application's login role (settings.QMS_APP_DB_ROLE, when it exists) may only SELECT and INSERT
  evidence tables (see compliance.db_roles, re-applied after every migrate).
- Existing audit entries get the site of the record they describe (the trigger is switched off for this
  one statement by the owner running the migration). The map of parent paths is frozen here as SQL.
"""

from django.db import migrations

EVIDENCE_TABLES = [
    "compliance_auditentry",
    "compliance_signature",
    "compliance_generatedreport",
    "compliance_auditcheckpoint",
]

TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION qms_refuse_truncate() RETURNS trigger AS $$
BEGIN
  IF current_setting('qms.allow_evidence_truncate', true) = 'on'
     AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'The table % is append-only: TRUNCATE is not allowed (regulated evidence).', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# label -> joins from the record's table to a table with site_id: [(fk column, parent table), ...];
# a list of such paths means alternatives (first one that gives a site).
SITE_PATHS = {
    "traceability.lothold": [[("lot_id", "traceability_lot")]],
    "traceability.serial": [[("lot_id", "traceability_lot")]],
    "traceability.lotlink": [[("child_id", "traceability_lot")]],
    "traceability.operation": [[("work_order_id", "traceability_workorder")]],
    "traceability.productionrecord": [[("work_order_id", "traceability_workorder")]],
    "traceability.processparameter": [
        [("record_id", "traceability_productionrecord"), ("work_order_id", "traceability_workorder")]
    ],
    "traceability.shipment": [[("lot_id", "traceability_lot")]],
    "traceability.recalllot": [[("recall_id", "traceability_recall")]],
    "traceability.recallcustomer": [[("recall_id", "traceability_recall")]],
    "inspection.characteristic": [[("plan_id", "inspection_inspectionplan")]],
    "inspection.measurement": [[("inspection_id", "inspection_inspection")]],
    "inspection.switchingevent": [[("switching_id", "inspection_supplierswitching")]],
    "inspection.lotrelease": [[("lot_id", "traceability_lot")]],
    "nonconformance.ncrlot": [[("ncr_id", "nonconformance_ncr")]],
    "nonconformance.containmentaction": [[("ncr_id", "nonconformance_ncr")]],
    "nonconformance.attachment": [[("ncr_id", "nonconformance_ncr")], [("complaint_id", "nonconformance_complaint")]],
    "nonconformance.disposition": [[("ncr_id", "nonconformance_ncr")]],
    "nonconformance.dispositionline": [
        [("disposition_id", "nonconformance_disposition"), ("ncr_id", "nonconformance_ncr")]
    ],
    "nonconformance.mrbdecision": [
        [("disposition_id", "nonconformance_disposition"), ("ncr_id", "nonconformance_ncr")]
    ],
    "capa.capateammember": [[("capa_id", "capa_capa")]],
    "capa.capaaction": [[("capa_id", "capa_capa")]],
    "capa.effectivenesscheck": [[("capa_id", "capa_capa")]],
}


def _backfill_sql(connection):
    """(sql, params) statements setting site_id on existing entries, for the tables that exist."""
    intro = connection.introspection
    with connection.cursor() as cursor:
        tables = set(intro.table_names(cursor))
        statements = []
        if "core_site" in tables:
            statements.append(
                (
                    "UPDATE compliance_auditentry SET site_id = s.id FROM core_site s "
                    "WHERE compliance_auditentry.model = 'core.site' AND compliance_auditentry.object_id = "
                    "CAST(s.id AS VARCHAR(64)) AND compliance_auditentry.site_id IS NULL",
                    [],
                )
            )
        cursor.execute("SELECT DISTINCT model FROM compliance_auditentry")
        labels = [row[0] for row in cursor.fetchall()]
        for label in labels:
            table = label.replace(".", "_")
            if table not in tables:
                continue
            columns = {c.name for c in intro.get_table_description(cursor, table)}
            paths = [[]] if "site_id" in columns and label != "core.site" else SITE_PATHS.get(label, [])
            for path in paths:
                if any(parent not in tables for _fk, parent in path):
                    continue
                joins, alias = [], "t0"
                for i, (fk, parent) in enumerate(path, start=1):
                    joins.append(f"JOIN {parent} t{i} ON t{i}.id = {alias}.{fk}")
                    alias = f"t{i}"
                select = f"SELECT CAST(t0.id AS VARCHAR(64)) AS oid, {alias}.site_id AS sid FROM {table} t0 " + " ".join(
                    joins
                )
                statements.append(
                    (
                        f"UPDATE compliance_auditentry SET site_id = s.sid FROM ({select}) s "  # noqa: S608
                        "WHERE compliance_auditentry.model = %s AND compliance_auditentry.object_id = s.oid "
                        "AND compliance_auditentry.site_id IS NULL",
                        [label],
                    )
                )
    return statements


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(TRUNCATE_FUNCTION, params=None)
        for table in EVIDENCE_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION qms_refuse_truncate()"
            )
        schema_editor.execute(
            "CREATE TRIGGER compliance_auditcheckpoint_append_only BEFORE UPDATE OR DELETE ON "
            "compliance_auditcheckpoint FOR EACH ROW EXECUTE FUNCTION qms_refuse_change()"
        )
        schema_editor.execute("ALTER TABLE compliance_auditentry DISABLE TRIGGER compliance_auditentry_append_only")
    for sql, params in _backfill_sql(connection):
        schema_editor.execute(sql, params=params)
    if postgres:
        schema_editor.execute("ALTER TABLE compliance_auditentry ENABLE TRIGGER compliance_auditentry_append_only")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in EVIDENCE_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS compliance_auditcheckpoint_append_only ON compliance_auditcheckpoint"
    )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_checkpoints_site_hash_version")]
    operations = [migrations.RunPython(forwards, backwards)]
