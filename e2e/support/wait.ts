import type { Locator } from 'playwright-core';
import { eventually } from './stack';

/** Waits until `locator`'s text matches (the page updates by polling, never by reload). */
export async function textOf(locator: Locator, expected: string | RegExp, timeout = 5000): Promise<string> {
  return eventually(
    async () => {
      const text = ((await locator.textContent({ timeout: 1000 })) ?? '').replace(/\s+/g, ' ').trim();
      const ok = typeof expected === 'string' ? text === expected : expected.test(text);
      if (!ok) throw new Error(`text is "${text}", want ${String(expected)}`);
      return text;
    },
    { timeout, what: `text ${String(expected)}`, interval: 100 },
  );
}

export async function disabledState(locator: Locator, disabled: boolean, timeout = 5000): Promise<void> {
  await eventually(
    async () => {
      if ((await locator.isDisabled({ timeout: 1000 })) !== disabled) throw new Error(`button is ${disabled ? 'enabled' : 'disabled'}`);
    },
    { timeout, what: `the button to be ${disabled ? 'disabled' : 'enabled'}`, interval: 100 },
  );
}
