/** The Postgres side of a sale: the durable record the reconciler keeps. */
import type pg from 'pg';
import type { SaleDefinition } from './flash-sale.redis.js';

export interface PersistablePurchase {
  purchaseId: string;
  userId: string;
  unit: number;
  purchasedAtMs: number;
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
  return {
    async insertSale(sale: SaleDefinition): Promise<void> {
      await pool.query(
        `INSERT INTO flash_sales (id, product_name, total_stock, remaining_stock, start_time, end_time)
         VALUES ($1, $2, $3, $3, $4, $5)`,
        [sale.id, sale.productName, sale.totalStock, new Date(sale.startMs), new Date(sale.endMs)],
      );
    },

    /** The most recently created sale: the one /current serves. */
    async latestSale(): Promise<StoredSale | null> {
      const { rows } = await pool.query<SaleRow>(
        `SELECT ${SALE_COLUMNS} FROM flash_sales ORDER BY created_at DESC LIMIT 1`,
      );
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

    /**
     * Writes purchases idempotently: replays of an entry already persisted are
     * ignored, and remaining stock falls only by the rows actually inserted,
     * in the same transaction. Returns how many rows were new.
     */
    async persistPurchases(saleId: string, purchases: PersistablePurchase[]): Promise<number> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inserted = await client.query(
          `INSERT INTO purchases (id, flash_sale_id, user_id, unit_number, created_at)
           SELECT id, $1, user_id, unit, to_timestamp(at_ms / 1000.0)
           FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[]) AS p(id, user_id, unit, at_ms)
           ON CONFLICT DO NOTHING`,
          [
            saleId,
            purchases.map((p) => p.purchaseId),
            purchases.map((p) => p.userId),
            purchases.map((p) => p.unit),
            purchases.map((p) => p.purchasedAtMs),
          ],
        );
        const newRows = inserted.rowCount ?? 0;
        await client.query(
          `UPDATE flash_sales
           SET remaining_stock = remaining_stock - $2,
               status = CASE WHEN remaining_stock - $2 = 0 OR now() >= end_time THEN 'ended'::sale_status
                             WHEN now() >= start_time THEN 'active'::sale_status
                             ELSE 'upcoming'::sale_status END,
               updated_at = now()
           WHERE id = $1`,
          [saleId, newRows],
        );
        await client.query('COMMIT');
        return newRows;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    async markSettled(saleId: string): Promise<void> {
      await pool.query(
        `UPDATE flash_sales SET settled_at = now(), status = 'ended', updated_at = now() WHERE id = $1`,
        [saleId],
      );
    },
  };
}

export type PgSaleRepository = ReturnType<typeof createPgSaleRepository>;
