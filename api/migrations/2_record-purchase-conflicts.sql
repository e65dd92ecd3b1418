-- Purchases the reconciler could not store because they collide with a
-- different purchase already in Postgres (the same buyer, or the same unit,
-- under another purchase id), and stream entries it could not read. Such an
-- entry is acknowledged in Redis only once it is recorded here, in the same
-- transaction: nothing is ever dropped without a trace (ADR 0002).
CREATE TABLE purchase_conflicts (
  id                      bigserial PRIMARY KEY,
  flash_sale_id           uuid NOT NULL REFERENCES flash_sales (id),
  -- The stream entry it came from; NULL only when recorded outside the stream.
  stream_entry_id         text,
  purchase_id             uuid,
  user_id                 varchar(254),
  unit_number             integer,
  purchased_at            timestamptz(3),
  reason                  text NOT NULL CHECK (reason IN ('buyer_already_has_purchase', 'unit_already_sold', 'malformed_entry')),
  -- The stored purchase it collided with.
  conflicting_purchase_id uuid,
  -- The entry's fields as Redis held them, for a malformed one.
  raw_entry               jsonb,
  recorded_at             timestamptz NOT NULL DEFAULT now(),
  -- Recording is idempotent: a replayed entry is recorded once.
  CONSTRAINT one_record_per_purchase UNIQUE (flash_sale_id, purchase_id),
  CONSTRAINT one_record_per_entry UNIQUE (flash_sale_id, stream_entry_id)
);
