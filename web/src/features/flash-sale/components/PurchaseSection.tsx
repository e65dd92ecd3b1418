import { useState } from 'react';
import { usePurchase } from '../api/create-purchase';
import { usePurchaseLookup } from '../api/get-purchase';
import type { Sale } from '../api/schemas';
import { ownedPurchase, type PurchaseOutcome } from '../logic/outcome.logic';
import { readRememberedIdentifier, rememberIdentifier } from '../remembered-identifier';
import { PurchaseForm } from './PurchaseForm';
import { PurchaseResult } from './PurchaseResult';

type Props = { sale: Sale | null | undefined };

/**
 * Buying one: the form, the outcome, and the memory of a confirmed purchase.
 * After a success (or "already purchased") the identifier is remembered; on
 * reload the API is asked whether it owns one in this sale, and if so the
 * page is back in its "you got one" state with the button off for it (FE-6).
 */
export function PurchaseSection({ sale }: Props) {
  const saleId = sale?.id;
  const [remembered, setRemembered] = useState(readRememberedIdentifier);
  const { lookup } = usePurchaseLookup(remembered, saleId);
  const { purchase, isPending, outcome } = usePurchase(saleId);

  const ownedBy = remembered && lookup?.purchased ? remembered : null;
  const restored: PurchaseOutcome | null =
    ownedBy && lookup?.purchased
      ? {
          kind: 'success',
          userId: ownedBy,
          purchaseId: lookup.purchaseId,
          purchasedAt: lookup.purchasedAt,
          productName: sale?.productName ?? null,
          restored: true,
        }
      : null;

  async function handlePurchase(userId: string) {
    const result = await purchase(userId);
    const owned = result ? ownedPurchase(result) : null;
    if (owned) {
      rememberIdentifier(owned.userId);
      setRemembered(owned.userId);
    }
  }

  return (
    <section className="purchase" aria-labelledby="purchase-heading">
      <h2 id="purchase-heading" className="purchase__heading">
        Buy one
      </h2>
      <PurchaseForm
        saleStatus={sale === undefined ? undefined : (sale?.status ?? null)}
        pending={isPending}
        ownedBy={ownedBy}
        initialIdentifier={remembered ?? ''}
        onPurchase={(userId) => void handlePurchase(userId)}
      />
      <PurchaseResult outcome={outcome ?? restored} />
    </section>
  );
}
