-- The shop's Postgres roles and its database, for every environment: the
-- local stack runs this (stack/src/services.ts), docker-compose and k8s run
-- it through init-roles.sh when their Postgres is first initialised. It is
-- idempotent. The passwords arrive as psql variables set on stdin, never on
-- a command line: owner_password, reconciler_password, operator_password,
-- monitor_password.
-- What each role may do is granted by the migrations (api/migrations/).
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I', name)
FROM (VALUES ('flashflow_owner'), ('flashflow_reconciler'), ('flashflow_operator'), ('flashflow_monitor')) AS roles(name)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

ALTER ROLE flashflow_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
ALTER ROLE flashflow_reconciler LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reconciler_password';
ALTER ROLE flashflow_operator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'operator_password';
-- postgres_exporter's login: Postgres's statistics views and nothing of the shop's tables.
ALTER ROLE flashflow_monitor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'monitor_password';
GRANT pg_monitor TO flashflow_monitor;

SELECT 'CREATE DATABASE flash_flow OWNER flashflow_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'flash_flow') \gexec
ALTER DATABASE flash_flow OWNER TO flashflow_owner;
REVOKE ALL ON DATABASE flash_flow FROM PUBLIC;
GRANT CONNECT ON DATABASE flash_flow TO flashflow_reconciler, flashflow_operator, flashflow_monitor;

\connect flash_flow
ALTER SCHEMA public OWNER TO flashflow_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
-- A shop made before these roles existed had one login, flash, owning it all.
SELECT 'REASSIGN OWNED BY flash TO flashflow_owner' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'flash') \gexec
SELECT 'DROP OWNED BY flash' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'flash') \gexec
\connect postgres
SELECT 'DROP ROLE flash' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'flash') \gexec
