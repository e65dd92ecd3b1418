// @vitest-environment jsdom
import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { config } from '../../../config';
import { deferred, errorBody, fakeApi, makeSale } from '../../../../tests/fake-api';
import { renderWithSWR } from '../../../../tests/render';
import { FlashSalePage } from './FlashSalePage';

const LIVE = { timeout: 3000 };

const buyButton = () => screen.getByRole('button', { name: /buy now|buying/i });
const identifierInput = () => screen.getByLabelText('Your email or username');

describe('sale status (FE-1, FE-2, FE-7)', () => {
  it('upcoming: says so and counts down by the server clock, not the local one', async () => {
    const offset = 3_600_000; // the server is an hour ahead of this browser
    const serverNow = Date.now() + offset;
    fakeApi({
      clockOffsetMs: offset,
      sale: makeSale({ status: 'upcoming', startTime: new Date(serverNow + 90_000).toISOString() }, serverNow),
    });
    renderWithSWR(<FlashSalePage />);

    expect(await screen.findByTestId('sale-state')).toHaveTextContent('Upcoming');
    expect(screen.getByText('The sale has not started yet.')).toBeInTheDocument();
    // By the local clock it would be 1:01:30; by the server's it is ~01:30.
    const timer = await screen.findByRole('timer', { name: /^Starts in 1 minute and (29|30) seconds$/ });
    expect(timer.textContent).toMatch(/^01:(29|30)$/);
    expect(buyButton()).toBeDisabled();
  });

  it('active: shows the remaining stock as a number and a labelled meter', async () => {
    fakeApi({ sale: makeSale({ remainingStock: 42, totalStock: 100 }) });
    renderWithSWR(<FlashSalePage />);

    expect(await screen.findByTestId('sale-state')).toHaveTextContent('Active');
    expect(screen.getByTestId('remaining-stock')).toHaveTextContent('42');
    expect(screen.getByTestId('remaining-stock').parentElement).toHaveTextContent('42 of 100 left');
    const meter = screen.getByRole('meter', { name: 'Stock left' });
    expect(meter.tagName).toBe('METER');
    expect(meter).toHaveAttribute('value', '42');
    expect(meter).toHaveAttribute('max', '100');
    expect(buyButton()).toBeEnabled();
  });

  it('updates stock and state without a reload (polling)', async () => {
    const api = fakeApi({ sale: makeSale({ remainingStock: 2, totalStock: 2 }) });
    renderWithSWR(<FlashSalePage />);
    expect(await screen.findByTestId('remaining-stock')).toHaveTextContent('2');

    api.setSale({ remainingStock: 1 });
    await waitFor(() => expect(screen.getByTestId('remaining-stock')).toHaveTextContent('1'), LIVE);

    api.setSale({ remainingStock: 0, status: 'ended', endedReason: 'sold_out' });
    await waitFor(() => expect(screen.getByTestId('sale-state')).toHaveTextContent('Ended'), LIVE);
    expect(screen.getByTestId('ended-reason')).toHaveTextContent('Sold out. All 2 have been sold.');
    expect(buyButton()).toBeDisabled();
    expect(config.pollIntervalMs).toBeLessThan(1000); // the test env polls fast; production defaults to 1 s
  });

  it('pauses polling while the tab is hidden and catches up when the shopper returns', async () => {
    const api = fakeApi({ sale: makeSale({ remainingStock: 9 }) });
    renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');
    const statusCalls = () => api.calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/flash-sales/current').length;

    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    await new Promise((r) => setTimeout(r, 2 * config.pollIntervalMs));
    const whileHidden = statusCalls();
    api.setSale({ remainingStock: 3 });
    await new Promise((r) => setTimeout(r, 4 * config.pollIntervalMs));
    expect(statusCalls()).toBe(whileHidden);
    expect(screen.getByTestId('remaining-stock')).toHaveTextContent('9');

    visibility.mockReturnValue('visible');
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
      window.dispatchEvent(new Event('focus'));
    });
    await waitFor(() => expect(screen.getByTestId('remaining-stock')).toHaveTextContent('3'), LIVE);
  });

  it('ended by time says time ran out, not sold out', async () => {
    fakeApi({ sale: makeSale({ status: 'ended', endedReason: 'time', remainingStock: 7, totalStock: 10 }) });
    renderWithSWR(<FlashSalePage />);

    expect(await screen.findByTestId('ended-reason')).toHaveTextContent(/Time ran out\. The sale ended at .+ with 7 of 10 unsold\./);
    expect(screen.queryByText(/sold out/i)).not.toBeInTheDocument();
    expect(buyButton()).toBeDisabled();
  });

  it('with no sale, says so and picks up a new sale by itself', async () => {
    const api = fakeApi({ sale: null });
    renderWithSWR(<FlashSalePage />);
    expect(await screen.findByRole('heading', { name: 'No sale right now' })).toBeInTheDocument();
    expect(buyButton()).toBeDisabled();

    api.setSale(makeSale({ status: 'upcoming', startTime: new Date(Date.now() + 60_000).toISOString() }));
    await waitFor(() => expect(screen.getByTestId('sale-state')).toHaveTextContent('Upcoming'), LIVE);
  });

  it('says when the shop cannot be reached, and keeps the last known state on a later failure', async () => {
    const api = fakeApi();
    api.state.statusFails = true;
    renderWithSWR(<FlashSalePage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('We cannot reach the shop right now. Retrying…');

    api.state.statusFails = false;
    await waitFor(() => expect(screen.getByTestId('sale-state')).toHaveTextContent('Active'), { timeout: 4000 });
    api.state.statusFails = true;
    await waitFor(() => expect(screen.getByTestId('connection-problem')).toHaveTextContent(/last known status/), LIVE);
    expect(screen.getByTestId('remaining-stock')).toHaveTextContent('42');
  });
});

describe('purchase form', () => {
  it('has a real label, and the button works only while active (FE-3)', async () => {
    const api = fakeApi({ sale: makeSale({ status: 'upcoming', startTime: new Date(Date.now() + 60_000).toISOString() }) });
    renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('sale-state');

    expect(identifierInput()).toHaveAttribute('type', 'text');
    expect(screen.getByRole('button', { name: 'Buy now', description: 'Buying opens when the sale starts.' })).toBeDisabled();

    api.setSale({ status: 'active' });
    await waitFor(() => expect(buyButton()).toBeEnabled(), LIVE);

    api.setSale({ status: 'ended', endedReason: 'time' });
    await waitFor(() => expect(buyButton()).toBeDisabled(), LIVE);
    expect(screen.getByRole('button', { name: 'Buy now', description: 'The sale has ended.' })).toBeDisabled();
  });

  it.each(['', '   ', '\t \t'])('refuses %j before any request is sent (FE-5)', async (typed) => {
    const api = fakeApi();
    const { user } = renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');

    if (typed) await user.type(identifierInput(), typed);
    await user.click(buyButton());

    expect(await screen.findByTestId('identifier-problem')).toHaveTextContent('Enter your email or username.');
    expect(identifierInput()).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByRole('textbox', { name: 'Your email or username', description: 'Enter your email or username.' })).toBeInTheDocument();
    expect(identifierInput()).toHaveFocus();
    expect(api.posts()).toHaveLength(0);

    await user.type(identifierInput(), 'x');
    expect(screen.queryByTestId('identifier-problem')).not.toBeInTheDocument();
  });

  it('refuses inner spaces too, and submits with Enter from the keyboard', async () => {
    const api = fakeApi();
    const { user } = renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');

    await user.type(identifierInput(), 'al ice{Enter}');
    expect(await screen.findByTestId('identifier-problem')).toHaveTextContent('cannot contain spaces');
    expect(api.posts()).toHaveLength(0);

    await user.clear(identifierInput());
    await user.type(identifierInput(), '  alice@example.com  {Enter}');
    expect(await screen.findByTestId('outcome-success')).toBeInTheDocument();
    expect(api.posts()[0]?.body).toEqual({ userId: 'alice@example.com' });
  });

  it('shows a pending state and sends one request however often it is clicked', async () => {
    const api = fakeApi();
    const gate = deferred<void>();
    api.onPurchase(async (userId) => {
      await gate.promise;
      return { status: 201, body: { data: { purchaseId: 'p-1', userId, productName: 'Keyboard', status: 'confirmed', purchasedAt: new Date().toISOString() } } };
    });
    const { user } = renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');

    await user.type(identifierInput(), 'alice');
    await user.dblClick(buyButton());
    await user.click(buyButton());
    await user.keyboard('{Enter}');

    expect(await screen.findByRole('button', { name: 'Buying…', description: 'Placing your order…' })).toHaveAttribute('aria-disabled', 'true');
    expect(api.posts()).toHaveLength(1);

    gate.resolve();
    expect(await screen.findByTestId('outcome-success')).toBeInTheDocument();
    expect(api.posts()).toHaveLength(1);
  });
});

describe('purchase outcomes (FE-4)', () => {
  async function attempt(reply: { status: number; body?: unknown; headers?: Record<string, string> } | 'network-error', userId = 'alice') {
    const api = fakeApi();
    api.onPurchase(() => reply);
    const { user } = renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');
    await user.type(identifierInput(), userId);
    await user.click(buyButton());
    const region = screen.getByTestId('purchase-result');
    await waitFor(() => expect(region).not.toBeEmptyDOMElement());
    return region.firstElementChild as HTMLElement;
  }

  const success = {
    status: 201,
    body: { data: { purchaseId: 'abcdef12-3456', userId: 'alice@example.com', productName: 'Mechanical Keyboard', status: 'confirmed', purchasedAt: '2030-01-01T12:00:00Z' } },
  };

  it('each of the four outcomes looks different and is announced', async () => {
    const seen: { testId: string | null; className: string; text: string }[] = [];
    for (const reply of [
      success,
      { status: 409, body: errorBody(409, 'SALE_NOT_ACTIVE') },
      { status: 409, body: errorBody(409, 'SOLD_OUT') },
      { status: 409, body: errorBody(409, 'ALREADY_PURCHASED', { purchaseId: 'abcdef12-9', purchasedAt: '2030-01-01T11:00:00Z' }) },
    ]) {
      const card = await attempt(reply);
      const region = screen.getByTestId('purchase-result');
      expect(region).toHaveAttribute('aria-live');
      expect(region).toHaveAttribute('aria-atomic', 'true');
      seen.push({ testId: card.getAttribute('data-testid'), className: card.className, text: card.textContent ?? '' });
      document.body.innerHTML = '';
    }
    expect(seen.map((s) => s.testId)).toEqual(['outcome-success', 'outcome-not-active', 'outcome-sold-out', 'outcome-already-purchased']);
    expect(new Set(seen.map((s) => s.className)).size).toBe(4);
    expect(seen[0]?.text).toMatch(/You got one!.*Purchase confirmed for alice@example\.com: one Mechanical Keyboard\..*Order abcdef12/);
    expect(seen[1]?.text).toMatch(/The sale is not running/);
    expect(seen[2]?.text).toMatch(/Sold out.*Every item has been sold/);
    expect(seen[3]?.text).toMatch(/You already have one.*alice has already bought one/);
  });

  it('rate limiting is a "try again" message with the wait', async () => {
    const card = await attempt({ status: 429, body: errorBody(429, 'RATE_LIMITED'), headers: { 'Retry-After': '2' } });
    expect(card).toHaveAttribute('data-testid', 'outcome-try-again');
    expect(card).toHaveTextContent('Too many attempts. Try again in 2 seconds.');
    expect(buyButton()).toBeEnabled();
  });

  it('an overloaded shop is a "try again" message', async () => {
    const card = await attempt({ status: 503, body: errorBody(503, 'SERVICE_UNAVAILABLE') });
    expect(card).toHaveTextContent('The shop is very busy right now. Try again in a moment.');
  });

  it('a network failure is a "try again" message, not silence', async () => {
    const card = await attempt('network-error');
    expect(card).toHaveAttribute('data-testid', 'outcome-try-again');
    expect(card).toHaveTextContent('We could not reach the shop. Check your connection and try again.');
  });

  it('a server-side validation error is shown', async () => {
    const card = await attempt({ status: 400, body: errorBody(400, 'VALIDATION_ERROR', [{ path: 'userId', message: 'userId is too long' }]) });
    expect(card).toHaveAttribute('data-testid', 'outcome-invalid');
    expect(card).toHaveTextContent('userId is too long');
  });
});

describe('after a success (FE-6)', () => {
  it('remembers the identifier as the server returned it and blocks another attempt for it', async () => {
    const api = fakeApi();
    const { user } = renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');

    await user.type(identifierInput(), 'Alice@Example.com');
    await user.click(buyButton());
    const card = await screen.findByTestId('outcome-success');
    expect(within(card).getByText('You got one!')).toBeInTheDocument();
    expect(window.localStorage.getItem(config.identifierStorageKey)).toBe('alice@example.com');

    await waitFor(() => expect(buyButton()).toBeDisabled());
    expect(screen.getByTestId('buy-hint')).toHaveTextContent('alice@example.com already has one. It is one per shopper.');
    // The stock on screen is refreshed straight away.
    await waitFor(() => expect(screen.getByTestId('remaining-stock')).toHaveTextContent('41'), LIVE);

    // Another shopper on the same device may still buy.
    await user.clear(identifierInput());
    await user.type(identifierInput(), 'bob');
    expect(buyButton()).toBeEnabled();
    await user.clear(identifierInput());
    await user.type(identifierInput(), 'ALICE@example.com');
    expect(buyButton()).toBeDisabled();
    expect(api.posts()).toHaveLength(1);
  });

  it('after a reload, asks the API and restores the "you got one" state', async () => {
    const api = fakeApi();
    api.state.purchases.set('alice@example.com', { purchaseId: 'abcdef12-0000', purchasedAt: '2030-01-01T12:00:00Z' });
    window.localStorage.setItem(config.identifierStorageKey, 'alice@example.com');
    renderWithSWR(<FlashSalePage />);

    const card = await screen.findByTestId('outcome-success');
    expect(card).toHaveTextContent('You got one!');
    expect(card).toHaveTextContent('Your purchase as alice@example.com is confirmed.');
    expect(card).toHaveTextContent('Order abcdef12');
    expect(api.lookups()[0]?.query.get('userId')).toBe('alice@example.com');
    expect(identifierInput()).toHaveValue('alice@example.com');
    expect(buyButton()).toBeDisabled();
    expect(api.posts()).toHaveLength(0);
  });

  it('a remembered identifier without a purchase in this sale is only prefilled', async () => {
    const api = fakeApi();
    window.localStorage.setItem(config.identifierStorageKey, 'carol');
    renderWithSWR(<FlashSalePage />);

    await waitFor(() => expect(api.lookups()).toHaveLength(1));
    await waitFor(() => expect(buyButton()).toBeEnabled());
    expect(identifierInput()).toHaveValue('carol');
    expect(screen.getByTestId('purchase-result')).toBeEmptyDOMElement();
  });

  it('"already purchased" also remembers the identifier, folded as the server stores it', async () => {
    const api = fakeApi();
    api.state.purchases.set('dave', { purchaseId: 'abcdef12-1111', purchasedAt: '2030-01-01T12:00:00Z' });
    const { user } = renderWithSWR(<FlashSalePage />);
    await screen.findByTestId('remaining-stock');

    await user.type(identifierInput(), 'DAVE');
    await user.click(buyButton());
    expect(await screen.findByTestId('outcome-already-purchased')).toHaveTextContent('dave has already bought one');
    expect(window.localStorage.getItem(config.identifierStorageKey)).toBe('dave');
    await waitFor(() => expect(buyButton()).toBeDisabled());
  });
});
