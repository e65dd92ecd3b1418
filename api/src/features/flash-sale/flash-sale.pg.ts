/** The Postgres side of a sale: the durable record the reconciler keeps. */
import type pg from 'pg';
import { withPgClient } from '../../platform/postgres.js';
import type { SaleDefinition } from './flash-sale.logic.js';
import { classifyUnstored, type PersistablePurchase, type PurchaseConflict } from './reconcile.logic.js';


/** What one persisting transaction did: rows stored, and conflicts newly recorded. */
export interface PersistResult {
  inserted: number;
  conflicts: PurchaseConflict[];
}

export interface StoredSale extends SaleDefinition {
  remainingStock: number;
  status: string;
  settledAt: Date | null;
  createdAtMs: number;
}

const SALE_COLUMNS = `id, product_name, total_stock, remaining_stock, start_time, end_time, status, settled_at, created_at`;

interface SaleRow {
  id: string;
  product_name: string;
  total_stock: number;
  remaining_stock: number;
  start_time: Date;
  end_time: Date;
  status: string;
  settled_at: Date | null;
  created_at: Date;
}

const toSale = (row: SaleRow): StoredSale => ({
  id: row.id,
  productName: row.product_name,
  totalStock: row.total_stock,
  remainingStock: row.remaining_stock,
  startMs: row.start_time.getTime(),
  endMs: row.end_time.getTime(),
  status: row.status,
  settledAt: row.settled_at,
  createdAtMs: row.created_at.getTime(),
});

export function createPgSaleRepository(pool: pg.Pool) {
  async function inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withPgClient(pool, async (client) => {
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  return {
    /**
     * Inserts a sale and runs `beforeCommit` inside the same transaction: if
     * the process dies or `beforeCommit` throws, the row never existed.
     */
    async insertSale(sale: SaleDefinition, beforeCommit: () => Promise<void> = async () => undefined): Promise<void> {
      await inTransaction(async (client) => {
        await client.query(
          `INSERT INTO flash_sales (id, product_name, total_stock, remaining_stock, start_time, end_time)
           VALUES ($1, $2, $3, $3, $4, $5)`,
          [sale.id, sale.productName, sale.totalStock, new Date(sale.startMs), new Date(sale.endMs)],
        );
        await beforeCommit();
      });
    },

    /** The most recently created sale: the one /current serves. */
    async latestSale(): Promise<StoredSale | null> {
      const { rows } = await pool.query<SaleRow>(
        `SELECT ${SALE_COLUMNS} FROM flash_sales ORDER BY created_at DESC LIMIT 1`,
      );
      return rows[0] ? toSale(rows[0]) : null;
    },

    async sale(saleId: string): Promise<StoredSale | null> {
      const { rows } = await pool.query<SaleRow>(`SELECT ${SALE_COLUMNS} FROM flash_sales WHERE id = $1`, [saleId]);
      return rows[0] ? toSale(rows[0]) : null;
    },

    async unsettledSales(): Promise<StoredSale[]> {
      const { rows } = await pool.query<SaleRow>(
        `SELECT ${SALE_COLUMNS} FROM flash_sales WHERE settled_at IS NULL ORDER BY created_at`,
      );
      return rows.map(toSale);
    },

    async confirmedPurchases(saleId: string): Promise<PersistablePurchase[]> {
      const { rows } = await pool.query<{
        id: string;
        user_id: string;
        unit_number: number;
        created_at: Date;
      }>(
        `SELECT id, user_id, unit_number, created_at FROM purchases
         WHERE flash_sale_id = $1 AND status = 'confirmed' ORDER BY unit_number`,
        [saleId],
      );
      return rows.map((row) => ({
        purchaseId: row.id,
        userId: row.user_id,
        unit: row.unit_number,
        purchasedAtMs: row.created_at.getTime(),
      }));
    },

    async confirmedCount(saleId: string): Promise<number> {
      const { rows } = await pool.query<{ count: number }>(
        `SELECT count(*) AS count FROM purchases WHERE flash_sale_id = $1 AND status = 'confirmed'`,
        [saleId],
      );
      return rows[0]?.count ?? 0;
    },

    async conflictCount(saleId: string): Promise<number> {
      const { rows } = await pool.query<{ count: number }>(
        `SELECT count(*) AS count FROM purchase_conflicts WHERE flash_sale_id = $1`,
        [saleId],
      );
      return rows[0]?.count ?? 0;
    },

    /**
     * Writes purchases in one transaction. A replay of a purchase already
     * stored is ignored; one that collides with a different purchase (the
     * same buyer or unit under another id) is recorded in purchase_conflicts
     * instead. Remaining stock falls by the rows actually inserted.
     * `entryIds`, when given, names the stream entry of each purchase.
     */
    async persistPurchases(saleId: string, purchases: PersistablePurchase[], entryIds?: string[]): Promise<PersistResult> {
      if (purchases.length === 0) return { inserted: 0, conflicts: [] };
      return inTransaction(async (client) => {
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO purchases (id, flash_sale_id, user_id, unit_number, created_at)
           SELECT id, $1, user_id, unit, to_timestamp(at_ms / 1000.0)
           FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[]) AS p(id, user_id, unit, at_ms)
           ON CONFLICT DO NOTHING
           RETURNING id`,
          [
            saleId,
            purchases.map((p) => p.purchaseId),
            purchases.map((p) => p.userId),
            purchases.map((p) => p.unit),
            purchases.map((p) => p.purchasedAtMs),
          ],
        );
        const stored = new Set(inserted.rows.map((row) => row.id));
        const unstored = purchases.filter((p) => !stored.has(p.purchaseId));
        let conflicts: PurchaseConflict[] = [];
        if (unstored.length > 0) {
          const { rows } = await client.query<{ id: string; user_id: string; unit_number: number }>(
            `SELECT id, user_id, unit_number FROM purchases
             WHERE flash_sale_id = $1 AND (id = ANY($2::uuid[]) OR user_id = ANY($3::text[]) OR unit_number = ANY($4::int[]))`,
            [saleId, unstored.map((p) => p.purchaseId), unstored.map((p) => p.userId), unstored.map((p) => p.unit)],
          );
          const candidates = classifyUnstored(
            unstored,
            rows.map((row) => ({ purchaseId: row.id, userId: row.user_id, unit: row.unit_number })),
          );
          conflicts = await recordConflicts(client, saleId, candidates, (purchase) =>
            entryIds?.[purchases.indexOf(purchase)] ?? null,
          );
        }
        await client.query(
          `UPDATE flash_sales
           SET remaining_stock = remaining_stock - $2,
               status = CASE WHEN remaining_stock - $2 = 0 OR now() >= end_time THEN 'ended'::sale_status
                             WHEN now() >= start_time THEN 'active'::sale_status
                             ELSE 'upcoming'::sale_status END,
               updated_at = now()
           WHERE id = $1`,
          [saleId, stored.size],
        );
        return { inserted: stored.size, conflicts };
      });
    },

    /** Records stream entries that are not purchases; returns how many were new. */
    async recordMalformedEntries(saleId: string, entries: { entryId: string; fields: Record<string, string> }[]): Promise<number> {
      if (entries.length === 0) return 0;
      const { rowCount } = await pool.query(
        `INSERT INTO purchase_conflicts (flash_sale_id, stream_entry_id, reason, raw_entry)
         SELECT $1, entry_id, 'malformed_entry', raw FROM unnest($2::text[], $3::jsonb[]) AS e(entry_id, raw)
         ON CONFLICT DO NOTHING`,
        [saleId, entries.map((e) => e.entryId), entries.map((e) => JSON.stringify(e.fields))],
      );
      return rowCount ?? 0;
    },

    async markSettled(saleId: string): Promise<void> {
      await pool.query(
        `UPDATE flash_sales SET settled_at = now(), status = 'ended', updated_at = now() WHERE id = $1`,
        [saleId],
      );
    },
  };
}

/** Inserts conflicts not recorded before (a replayed entry is recorded once); returns the new ones. */
async function recordConflicts(
  client: pg.PoolClient,
  saleId: string,
  conflicts: PurchaseConflict[],
  entryIdOf: (purchase: PersistablePurchase) => string | null,
): Promise<PurchaseConflict[]> {
  if (conflicts.length === 0) return [];
  const { rows } = await client.query<{ purchase_id: string }>(
    `INSERT INTO purchase_conflicts
       (flash_sale_id, stream_entry_id, purchase_id, user_id, unit_number, purchased_at, reason, conflicting_purchase_id)
     SELECT $1, entry_id, purchase_id, user_id, unit, to_timestamp(at_ms / 1000.0), reason, conflicting
     FROM unnest($2::text[], $3::uuid[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::uuid[])
       AS c(entry_id, purchase_id, user_id, unit, at_ms, reason, conflicting)
     ON CONFLICT DO NOTHING
     RETURNING purchase_id`,
    [
      saleId,
      conflicts.map((c) => entryIdOf(c.purchase)),
      conflicts.map((c) => c.purchase.purchaseId),
      conflicts.map((c) => c.purchase.userId),
      conflicts.map((c) => c.purchase.unit),
      conflicts.map((c) => c.purchase.purchasedAtMs),
      conflicts.map((c) => c.reason),
      conflicts.map((c) => c.conflictingPurchaseId),
    ],
  );
  const recorded = new Set(rows.map((row) => row.purchase_id));
  return conflicts.filter((c) => recorded.has(c.purchase.purchaseId));
}

export type PgSaleRepository = ReturnType<typeof createPgSaleRepository>;
