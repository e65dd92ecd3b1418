// @vitest-environment jsdom
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { PurchaseOutcome } from '../logic/outcome.logic';
import { PurchaseResult } from './PurchaseResult';

describe('PurchaseResult (FE-4)', () => {
  it('keeps an empty live region in the page before any outcome', () => {
    render(<PurchaseResult outcome={null} />);
    const region = screen.getByTestId('purchase-result');
    expect(region).toBeEmptyDOMElement();
    expect(region).toHaveAttribute('aria-live', 'polite');
  });

  it.each<[PurchaseOutcome, string, 'polite' | 'assertive']>([
    [{ kind: 'success', userId: 'a', purchaseId: 'p', purchasedAt: '2030-01-01T12:00:00Z', productName: null, restored: false }, 'success', 'polite'],
    [{ kind: 'not_active' }, 'not-active', 'assertive'],
    [{ kind: 'sold_out' }, 'sold-out', 'assertive'],
    [{ kind: 'already_purchased', userId: 'a', purchaseId: null, purchasedAt: null }, 'already-purchased', 'assertive'],
    [{ kind: 'try_again', cause: 'network', retryAfterSeconds: null }, 'try-again', 'assertive'],
  ])('renders %o as the %s variant', (outcome, variant, urgency) => {
    render(<PurchaseResult outcome={outcome} />);
    const card = screen.getByTestId(`outcome-${variant}`);
    expect(card).toHaveAttribute('class', `result result--${variant}`);
    expect(card).toHaveAttribute('data-outcome', variant);
    expect(screen.getByTestId('purchase-result')).toHaveAttribute('aria-live', urgency);
  });
});
