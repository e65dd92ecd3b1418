/**
 * A RedisSaleStore whose answers a test scripts, for the in-process HTTP
 * tests (app.test.ts): the app's behaviour around the store, not the store.
 */
import type { PurchaseDecision, SaleDefinition } from '../features/flash-sale/flash-sale.logic.js';
import type { PurchaseLookup, RedisSaleStore, SaleSnapshot } from '../features/flash-sale/flash-sale.redis.js';

export const SCRIPTED_SALE: SaleDefinition = {
  id: '00000000-0000-4000-8000-000000000001',
  productName: 'Scripted Widget',
  totalStock: 10,
  startMs: Date.parse('2026-12-01T10:00:00.000Z'),
  endMs: Date.parse('2026-12-01T11:00:00.000Z'),
};

export interface Script {
  currentSaleId: string | null;
  snapshot: SaleSnapshot | null;
  /** What claim() resolves with, or throws. */
  claim: (userId: string, purchaseId: string) => Promise<PurchaseDecision>;
  lookup: (userId: string) => Promise<PurchaseLookup>;
}

export function scriptedStore(overrides: Partial<Script> = {}) {
  const claims: { userId: string; purchaseId: string }[] = [];
  const script: Script = {
    currentSaleId: SCRIPTED_SALE.id,
    snapshot: { ...SCRIPTED_SALE, remaining: 7, closed: false, nowMs: SCRIPTED_SALE.startMs + 60_000 },
    claim: async (_userId, purchaseId) => ({ kind: 'CONFIRMED', purchaseId, purchasedAtMs: SCRIPTED_SALE.startMs + 60_000, unit: 4 }),
    lookup: async () => ({ kind: 'NONE' }),
    ...overrides,
  };
  const unused = (name: string) => () => Promise.reject(new Error(`the app should not call ${name}`));
  const store: RedisSaleStore = {
    currentSaleId: async () => script.currentSaleId,
    snapshot: async () => script.snapshot,
    definition: async (saleId) => (saleId === SCRIPTED_SALE.id ? SCRIPTED_SALE : null),
    claim: (_saleId, userId, purchaseId) => {
      claims.push({ userId, purchaseId });
      return script.claim(userId, purchaseId);
    },
    lookupPurchase: (_saleId, userId) => script.lookup(userId),
    findPurchase: unused('findPurchase'),
    durableBuyers: async () => null,
    initialiseSale: unused('initialiseSale'),
    confirmSale: unused('confirmSale'),
    closeSale: unused('closeSale'),
    expireSale: unused('expireSale'),
    setCurrentSale: unused('setCurrentSale'),
    serverTimeMs: unused('serverTimeMs'),
  };
  return { store, script, claims };
}
