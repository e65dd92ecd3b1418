-- What each role may do, and nothing more (docs/security.md). The owner
-- (flashflow_owner, which runs these migrations) keeps every right; the roles
-- must exist before this runs: the local stack, docker-compose's Postgres
-- init script and k8s create them with their passwords.
--   flashflow_reconciler  persists purchases (and conflicts), updates stock and
--                         settles sales; reads everything
--   flashflow_operator    the same, and creates sales (`sale create`)
-- Nobody but the owner may DROP, ALTER, TRUNCATE or DELETE. API replicas have
-- no login at all: purchases never touch Postgres.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO flashflow_reconciler, flashflow_operator;
GRANT SELECT ON flash_sales, purchases, purchase_conflicts TO flashflow_reconciler, flashflow_operator;
GRANT INSERT ON purchases, purchase_conflicts TO flashflow_reconciler, flashflow_operator;
GRANT USAGE ON SEQUENCE purchase_conflicts_id_seq TO flashflow_reconciler, flashflow_operator;
GRANT UPDATE (remaining_stock, status, settled_at, updated_at) ON flash_sales TO flashflow_reconciler, flashflow_operator;
GRANT INSERT ON flash_sales TO flashflow_operator;
