"""The production database roles (PostgreSQL): the owner runs migrations; the application logs in as
`settings.QMS_APP_DB_ROLE`, which may read and write ordinary tables but only SELECT and INSERT the
evidence tables (every `AppendOnlyModel`). Re-applied after every `migrate`, so tables added later are
covered; nothing happens when the role does not exist (quick start, tests, single-role installs)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connections


def evidence_tables() -> list[str]:
    from .models import AppendOnlyModel

    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, AppendOnlyModel) and not m._meta.proxy and m._meta.managed
    )


def app_role_grants(*, using: str = "default", role: str | None = None) -> bool:
    """Grant the application role its privileges. Returns whether anything was granted."""
    connection = connections[using]
    role = role if role is not None else getattr(settings, "QMS_APP_DB_ROLE", "")
    if connection.vendor != "postgresql" or not role:
        return False
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return False
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return False  # running as the application role itself: it cannot (and must not) grant to itself
        r = qn(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {r}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
        existing = set(connection.introspection.table_names(cursor))
        for table in evidence_tables():
            if table in existing:
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {qn(table)} FROM {r}")
                cursor.execute(f"GRANT SELECT, INSERT ON {qn(table)} TO {r}")
    return True


def on_post_migrate(sender, using="default", **kwargs):
    if sender.name == "compliance":
        app_role_grants(using=using)
