/**
 * The shopper's identifier, checked the way the server checks it (requirements
 * 1.3.2, 1.3.6, FE-5) so that obviously bad input never leaves the page:
 * surrounding whitespace is trimmed; the rest must be non-empty, at most 254
 * characters, with no whitespace or control characters inside. The server also
 * NFC-normalises and lowercases ("folds"); `foldIdentifier` does the same, for
 * comparing identifiers here and for showing one the server did not echo back.
 */
export const MAX_IDENTIFIER_LENGTH = 254;

export type IdentifierProblem = 'empty' | 'too_long' | 'inner_whitespace';

export type IdentifierCheck =
  | { ok: true; value: string }
  | { ok: false; problem: IdentifierProblem; message: string };

const INNER_WHITESPACE_OR_CONTROL = /[\s\p{Cc}\p{Zl}\p{Zp}]/u;

const MESSAGES: Record<IdentifierProblem, string> = {
  empty: 'Enter your email or username.',
  too_long: `Use at most ${MAX_IDENTIFIER_LENGTH} characters.`,
  inner_whitespace: 'Your email or username cannot contain spaces.',
};

export function checkIdentifier(raw: string): IdentifierCheck {
  const value = raw.trim();
  if (value.length === 0) return problem('empty');
  if (value.length > MAX_IDENTIFIER_LENGTH) return problem('too_long');
  if (INNER_WHITESPACE_OR_CONTROL.test(value)) return problem('inner_whitespace');
  return { ok: true, value };
}

/** The identifier as the server stores it: trimmed, NFC-normalised, lowercased. */
export function foldIdentifier(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

/** Two spellings that fold together are one shopper. */
export function sameIdentifier(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a == null || b == null) return false;
  return foldIdentifier(a) === foldIdentifier(b);
}

function problem(p: IdentifierProblem): IdentifierCheck {
  return { ok: false, problem: p, message: MESSAGES[p] };
}
