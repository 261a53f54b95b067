#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# The owner ($POSTGRES_USER) runs migrations; the application logs in as qms_app, which gets
# SELECT/INSERT only on the evidence tables (granted by every `manage.py migrate`, compliance.db_roles).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qms_app') THEN
    CREATE ROLE qms_app LOGIN PASSWORD '${QMS_APP_DB_PASSWORD:?set QMS_APP_DB_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END
\$\$;
GRANT CONNECT ON DATABASE "$POSTGRES_DB" TO qms_app;
GRANT USAGE ON SCHEMA public TO qms_app;
SQL
