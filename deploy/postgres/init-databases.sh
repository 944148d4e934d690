#!/bin/bash
# PostgreSQL first-start hook (/docker-entrypoint-initdb.d): one database and one login per service.
#
# ZONE_DATABASES lists the services ("gateway investment approvals hr stats"); each one's password is
# in <SERVICE>_DB_PASSWORD. Each login owns its database and nothing else; PUBLIC may not connect,
# so no service can open another's database (architecture: a service never reads another's tables).
# Safe to run again (e.g. by hand after adding a service): existing roles and databases are kept.
set -euo pipefail

for db in ${ZONE_DATABASES:?ZONE_DATABASES must list the service databases}; do
  var="$(tr '[:lower:]-' '[:upper:]_' <<< "$db")_DB_PASSWORD"
  password="${!var:?$var must be set}"
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       --set=db="$db" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'db', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'db') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'db', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'db', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'db', :'db') \gexec
SQL
  echo "database $db ready (owner $db)"
done
