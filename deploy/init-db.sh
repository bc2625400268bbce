#!/usr/bin/env bash
# First start of the Postgres container: the Dagster and warehouse databases, their owners,
# and a read-only `analyst` role on the warehouse and analytics schemas.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v dagster_role=dagster -v dagster_db=dagster -v dagster_password="$DAGSTER_PG_PASSWORD" \
    -v warehouse_role=warehouse -v warehouse_db=warehouse -v warehouse_password="$WAREHOUSE_PASSWORD" \
    -v analyst_role=analyst -v analyst_password="$ANALYST_PASSWORD" -v maintenance_db=postgres \
    -f /opt/imdb_warehouse/roles.sql
