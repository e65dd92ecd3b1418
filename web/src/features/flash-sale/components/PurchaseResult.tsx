import { presentOutcome, type PurchaseOutcome } from '../logic/outcome.logic';

type Props = { outcome: PurchaseOutcome | null };

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
}

/**
 * What came of the last attempt. The live region is always in the page so
 * screen readers announce each new outcome; each outcome differs in colour,
 * icon, title and test id (FE-4).
 */
export function PurchaseResult({ outcome }: Props) {
  const shown = outcome ? presentOutcome(outcome) : null;
  const receipt =
    outcome?.kind === 'success'
      ? { id: outcome.purchaseId, at: outcome.purchasedAt }
      : outcome?.kind === 'already_purchased' && outcome.purchaseId && outcome.purchasedAt
        ? { id: outcome.purchaseId, at: outcome.purchasedAt }
        : null;

  return (
    <div className="result-region" aria-live={shown?.urgency ?? 'polite'} aria-atomic="true" data-testid="purchase-result">
      {shown && (
        <div className={`result result--${shown.variant}`} data-testid={`outcome-${shown.variant}`} data-outcome={shown.variant}>
          <span className="result__icon" aria-hidden="true">
            {shown.icon}
          </span>
          <div className="result__body">
            <p className="result__title">{shown.title}</p>
            <p className="result__message">{shown.message}</p>
            {receipt && (
              <p className="result__receipt">
                Order <code>{receipt.id.slice(0, 8)}</code> at <time dateTime={receipt.at}>{formatTime(receipt.at)}</time>
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
