import { useId, useState, type FormEvent } from 'react';
import type { SaleStatus } from '../api/schemas';
import { checkIdentifier, sameIdentifier } from '../logic/identifier.logic';
import { availability } from '../logic/sale.logic';

type Props = {
  /** undefined while the first status answer is awaited, null when there is no sale. */
  saleStatus: SaleStatus | null | undefined;
  pending: boolean;
  /** The identifier this browser knows to own one already (FE-6), if any. */
  ownedBy: string | null;
  initialIdentifier?: string;
  onPurchase: (userId: string) => void;
};

/**
 * The identifier field and the buy button. Empty or whitespace-only input is
 * refused here, before any request (FE-5); the button works only while the
 * sale is active (FE-3), once at a time, and not again for an identifier that
 * already owns one (FE-6).
 */
export function PurchaseForm({ saleStatus, pending, ownedBy, initialIdentifier = '', onPurchase }: Props) {
  const [identifier, setIdentifier] = useState(initialIdentifier);
  const [problem, setProblem] = useState<string | null>(null);
  const inputId = useId();
  const problemId = useId();
  const hintId = useId();

  const ownsOne = sameIdentifier(identifier, ownedBy);
  const state = availability({
    sale: saleStatus === undefined ? undefined : saleStatus === null ? null : { status: saleStatus },
    pending,
    ownsOne,
  });
  // Pending keeps the button focusable (aria-disabled) so keyboard focus is not lost mid-purchase.
  const hardDisabled = !state.canBuy && state.why !== 'pending';

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!state.canBuy) return;
    const checked = checkIdentifier(identifier);
    if (!checked.ok) {
      setProblem(checked.message);
      event.currentTarget.querySelector<HTMLInputElement>('input')?.focus();
      return;
    }
    setProblem(null);
    onPurchase(checked.value);
  }

  return (
    <form className="purchase-form" noValidate onSubmit={handleSubmit} aria-busy={pending}>
      <label className="field__label" htmlFor={inputId}>
        Your email or username
      </label>
      <input
        id={inputId}
        className="field__input"
        name="userId"
        type="text"
        inputMode="email"
        autoComplete="username"
        autoCapitalize="none"
        autoCorrect="off"
        spellCheck={false}
        required
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? problemId : undefined}
        value={identifier}
        onChange={(e) => {
          setIdentifier(e.target.value);
          if (problem) setProblem(null);
        }}
      />
      {problem && (
        <p id={problemId} className="field__problem" role="alert" data-testid="identifier-problem">
          {problem}
        </p>
      )}
      <button
        type="submit"
        className="buy-button"
        disabled={hardDisabled}
        aria-disabled={state.canBuy ? undefined : true}
        aria-describedby={state.canBuy ? undefined : hintId}
      >
        {pending ? 'Buying…' : 'Buy now'}
      </button>
      {!state.canBuy && (
        <p id={hintId} className="purchase-form__hint" data-testid="buy-hint">
          {state.why === 'owned' && ownedBy ? `${ownedBy} already has one. It is one per shopper.` : state.hint}
        </p>
      )}
    </form>
  );
}
