#!/bin/sh
# docker-compose and k8s: the official postgres image runs this once, when it
# first initialises its data directory. The passwords come from the
# environment (a Secret, or the .env that npm run secrets writes) and reach
# psql on stdin, as variables of roles.sql (mounted at ROLES_SQL).
set -eu
roles_sql="${ROLES_SQL:-/etc/flashflow/postgres/roles.sql}"
{
  printf "\\set owner_password '%s'\n" "${FLASHFLOW_POSTGRES_OWNER_PASSWORD:?}"
  printf "\\set reconciler_password '%s'\n" "${FLASHFLOW_POSTGRES_RECONCILER_PASSWORD:?}"
  printf "\\set operator_password '%s'\n" "${FLASHFLOW_POSTGRES_OPERATOR_PASSWORD:?}"
  printf "\\set monitor_password '%s'\n" "${FLASHFLOW_POSTGRES_MONITOR_PASSWORD:?}"
  cat "$roles_sql"
} | psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres -f -
