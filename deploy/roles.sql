-- Run once, by init-db.sh on the first start of the Postgres container (and by the tests,
-- with names of their own). psql variables: dagster_role, dagster_db, dagster_password,
-- warehouse_role, warehouse_db, warehouse_password, analyst_role, analyst_password, and
-- maintenance_db (the server's own database, `postgres`).
CREATE ROLE :"dagster_role" LOGIN PASSWORD :'dagster_password';
CREATE DATABASE :"dagster_db" OWNER :"dagster_role";

CREATE ROLE :"warehouse_role" LOGIN PASSWORD :'warehouse_password';
CREATE DATABASE :"warehouse_db" OWNER :"warehouse_role";

CREATE ROLE :"analyst_role" LOGIN PASSWORD :'analyst_password';

-- Only their owners reach the Dagster database and the maintenance database: no one else may
-- connect there, nor create temporary tables. Analysts reach the warehouse only.
REVOKE ALL ON DATABASE :"dagster_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"maintenance_db" FROM PUBLIC;

\connect :"warehouse_db"
SET ROLE :"warehouse_role";
-- The IO manager creates the other schemas (raw, staging, polars_io) on its first writes.
CREATE SCHEMA IF NOT EXISTS warehouse;
CREATE SCHEMA IF NOT EXISTS analytics;
RESET ROLE;

REVOKE ALL ON DATABASE :"warehouse_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"warehouse_db" TO :"analyst_role";
GRANT USAGE ON SCHEMA warehouse, analytics TO :"analyst_role";
-- What the warehouse role creates there later (tables, views) analysts can read, no more.
ALTER DEFAULT PRIVILEGES FOR ROLE :"warehouse_role" IN SCHEMA warehouse
    GRANT SELECT ON TABLES TO :"analyst_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"warehouse_role" IN SCHEMA analytics
    GRANT SELECT ON TABLES TO :"analyst_role";
