/**
 * The functional spec's original design, kept for comparison only: a purchase
 * decided by one Postgres transaction (lock the sale row, insert the
 * purchase, decrement the stock). loadtest/bench.ts measures it against the
 * Lua claim on Redis Cluster at the same concurrency.
 */
import type pg from 'pg';

export type PgClaimOutcome = 'CONFIRMED' | 'ALREADY_PURCHASED' | 'SOLD_OUT' | 'SALE_NOT_ACTIVE' | 'NO_SALE';

export function createPgClaim(pool: pg.Pool) {
  return async function claim(saleId: string, userId: string, purchaseId: string): Promise<PgClaimOutcome> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Every claim on the sale queues here: the row lock serialises them, as the Lua script does on Redis.
      const { rows } = await client.query<{ remaining_stock: number; total_stock: number; active: boolean }>(
        `SELECT remaining_stock, total_stock, now() >= start_time AND now() < end_time AS active
         FROM flash_sales WHERE id = $1 FOR UPDATE`,
        [saleId],
      );
      const sale = rows[0];
      let outcome: PgClaimOutcome;
      if (!sale) outcome = 'NO_SALE';
      else if (!sale.active) outcome = 'SALE_NOT_ACTIVE';
      else {
        const existing = await client.query('SELECT 1 FROM purchases WHERE flash_sale_id = $1 AND user_id = $2', [saleId, userId]);
        if (existing.rowCount) outcome = 'ALREADY_PURCHASED';
        else if (sale.remaining_stock <= 0) outcome = 'SOLD_OUT';
        else {
          await client.query(
            `INSERT INTO purchases (id, flash_sale_id, user_id, unit_number, created_at) VALUES ($1, $2, $3, $4, now())`,
            [purchaseId, saleId, userId, sale.total_stock - sale.remaining_stock + 1],
          );
          await client.query('UPDATE flash_sales SET remaining_stock = remaining_stock - 1, updated_at = now() WHERE id = $1', [saleId]);
          outcome = 'CONFIRMED';
        }
      }
      await client.query('COMMIT');
      return outcome;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
}
