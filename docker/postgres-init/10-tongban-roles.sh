#!/usr/bin/env bash
# The two PostgreSQL roles of a compose installation. The postgres image runs this once, when it
# initialises an empty data directory (it is mounted into /docker-entrypoint-initdb.d/); it is
# safe to run again by hand, e.g. to add the roles to an older installation (README,
# "Production settings"):
#   owner (tongban_owner): owns the database and its schema; used only by `migrate`
#                          (MIGRATION_DATABASE_URL), so only migrations create or alter tables.
#   app   (tongban_app):   what api, worker and beat connect as (DATABASE_URL): no superuser, no
#                          owner, no CREATEROLE/CREATEDB; its table rights come from a migration
#                          (INSERT only on the timeline and security log, so the application
#                          cannot rewrite the audit trail or disable its triggers).
# Neither is the image's superuser (POSTGRES_USER), which nothing in the stack connects as.
set -euo pipefail
: "${TONGBAN_OWNER_DB_PASSWORD:?set TONGBAN_OWNER_DB_PASSWORD}"
: "${TONGBAN_APP_DB_PASSWORD:?set TONGBAN_APP_DB_PASSWORD}"
db=${POSTGRES_DB:-tongban}

# psql's :'var' and :"var" quote the values, so a password may hold any character.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "$db" \
  -v db="$db" \
  -v owner="${TONGBAN_OWNER_ROLE:-tongban_owner}" -v owner_pw="$TONGBAN_OWNER_DB_PASSWORD" \
  -v app="${TONGBAN_APP_ROLE:-tongban_app}" -v app_pw="$TONGBAN_APP_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" LOGIN PASSWORD :'owner_pw'
  NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" LOGIN PASSWORD :'app_pw'
  NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;
ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
-- Only the two roles may connect; only the owner may create objects in the schema.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner";
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
SQL
