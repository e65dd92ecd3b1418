import { expect } from 'vitest';

/**
 * The few DOM matchers the component tests use, so they read like
 * jest-dom without another dependency. Messages name the element's HTML.
 */

const describeEl = (el: unknown) => (el instanceof Element ? el.outerHTML.slice(0, 300) : String(el));
const normalize = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ').trim();

function assertElement(received: unknown, matcher: string): asserts received is HTMLElement {
  if (!(received instanceof HTMLElement)) throw new TypeError(`${matcher}: expected an HTMLElement, got ${describeEl(received)}`);
}

expect.extend({
  toBeInTheDocument(received: unknown) {
    const pass = received instanceof Element && received.ownerDocument.contains(received);
    return { pass, message: () => `expected ${describeEl(received)} ${pass ? 'not ' : ''}to be in the document` };
  },
  toHaveTextContent(received: unknown, expected: string | RegExp) {
    assertElement(received, 'toHaveTextContent');
    const text = normalize(received.textContent);
    const pass = typeof expected === 'string' ? text.includes(normalize(expected)) : expected.test(text);
    return { pass, message: () => `expected text ${JSON.stringify(text)} ${pass ? 'not ' : ''}to match ${String(expected)}` };
  },
  toBeDisabled(received: unknown) {
    assertElement(received, 'toBeDisabled');
    const pass = received.matches(':disabled');
    return { pass, message: () => `expected ${describeEl(received)} ${pass ? 'not ' : ''}to be disabled` };
  },
  toBeEnabled(received: unknown) {
    assertElement(received, 'toBeEnabled');
    const pass = !received.matches(':disabled');
    return { pass, message: () => `expected ${describeEl(received)} ${pass ? 'not ' : ''}to be enabled` };
  },
  toHaveAttribute(received: unknown, name: string, value?: string) {
    assertElement(received, 'toHaveAttribute');
    const actual = received.getAttribute(name);
    const pass = value === undefined ? actual !== null : actual === value;
    return {
      pass,
      message: () =>
        `expected ${describeEl(received)} ${pass ? 'not ' : ''}to have attribute ${name}${value === undefined ? '' : `=${JSON.stringify(value)}`} (has ${JSON.stringify(actual)})`,
    };
  },
  toHaveFocus(received: unknown) {
    assertElement(received, 'toHaveFocus');
    const pass = received.ownerDocument.activeElement === received;
    return { pass, message: () => `expected ${describeEl(received)} ${pass ? 'not ' : ''}to have focus` };
  },
  toHaveValue(received: unknown, expected: string) {
    if (!(received instanceof HTMLInputElement)) throw new TypeError(`toHaveValue: expected an input, got ${describeEl(received)}`);
    const pass = received.value === expected;
    return { pass, message: () => `expected value ${JSON.stringify(received.value)} ${pass ? 'not ' : ''}to be ${JSON.stringify(expected)}` };
  },
  toBeEmptyDOMElement(received: unknown) {
    assertElement(received, 'toBeEmptyDOMElement');
    const pass = received.childNodes.length === 0;
    return { pass, message: () => `expected ${describeEl(received)} ${pass ? 'not ' : ''}to be empty` };
  },
});

interface DomMatchers<R = unknown> {
  toBeInTheDocument(): R;
  toHaveTextContent(expected: string | RegExp): R;
  toBeDisabled(): R;
  toBeEnabled(): R;
  toHaveAttribute(name: string, value?: string): R;
  toHaveFocus(): R;
  toHaveValue(expected: string): R;
  toBeEmptyDOMElement(): R;
}

declare module 'vitest' {
  // Must match vitest's own declaration exactly, `any` included.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends DomMatchers<T> {}
}
