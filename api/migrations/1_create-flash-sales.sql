-- The durable record of every sale and every confirmed purchase (functional spec §3).
CREATE TYPE sale_status AS ENUM ('upcoming', 'active', 'ended');
CREATE TYPE purchase_status AS ENUM ('confirmed', 'failed');

CREATE TABLE flash_sales (
  id              uuid PRIMARY KEY,
  product_name    varchar(200) NOT NULL,
  total_stock     integer NOT NULL CHECK (total_stock > 0),
  remaining_stock integer NOT NULL CHECK (remaining_stock >= 0),
  start_time      timestamptz(3) NOT NULL,
  end_time        timestamptz(3) NOT NULL,
  status          sale_status NOT NULL DEFAULT 'upcoming',
  -- Set by the reconciler once the sale has ended and every purchase is persisted.
  settled_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT end_after_start CHECK (end_time > start_time),
  CONSTRAINT remaining_within_total CHECK (remaining_stock <= total_stock)
);

CREATE INDEX flash_sales_created_at ON flash_sales (created_at DESC);
CREATE INDEX flash_sales_unsettled ON flash_sales (created_at) WHERE settled_at IS NULL;

CREATE TABLE purchases (
  id            uuid PRIMARY KEY,
  flash_sale_id uuid NOT NULL REFERENCES flash_sales (id),
  user_id       varchar(254) NOT NULL,
  unit_number   integer NOT NULL CHECK (unit_number > 0),
  status        purchase_status NOT NULL DEFAULT 'confirmed',
  -- When Redis confirmed the purchase (the moment of the 201), not when it was persisted.
  created_at    timestamptz(3) NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT one_purchase_per_user UNIQUE (flash_sale_id, user_id),
  CONSTRAINT one_buyer_per_unit UNIQUE (flash_sale_id, unit_number)
);
