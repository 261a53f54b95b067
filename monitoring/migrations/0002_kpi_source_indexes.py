"""Indexes on the domains' tables for the KPI reads (roll-up of a day, alarm windows of a few hours).

They live here, not in the owning apps, because only monitoring reads those tables by time; each is
`IF NOT EXISTS` so an owning app may later declare the same index itself."""

from django.db import migrations

INDEXES = [
    ("monitoring_insp_site_stage_done", "inspection_inspection", "site_id, stage, completed_at"),
    ("monitoring_ncr_site_created", "nonconformance_ncr", "site_id, created_at"),
    ("monitoring_ncr_site_closed", "nonconformance_ncr", "site_id, closed_at"),
    ("monitoring_complaint_site_received", "nonconformance_complaint", "site_id, received_on"),
    ("monitoring_shipment_shipped_on", "traceability_shipment", "shipped_on"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("inspection", "0001_initial"),
        ("nonconformance", "0001_initial"),
        ("traceability", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
