import { describe, expect, it } from 'vitest';
import { MAX_IDENTIFIER_LENGTH, checkIdentifier, foldIdentifier, sameIdentifier } from './identifier.logic';

describe('checkIdentifier (FE-5)', () => {
  it.each(['', ' ', '   ', '\t', '\n', ' \t\r\n ', '\u00a0', '\u3000'])('rejects empty or whitespace-only %j', (raw) => {
    expect(checkIdentifier(raw)).toMatchObject({ ok: false, problem: 'empty', message: 'Enter your email or username.' });
  });

  it('trims surrounding whitespace and keeps the case (the server folds it)', () => {
    expect(checkIdentifier('  Alice@Example.com \n')).toEqual({ ok: true, value: 'Alice@Example.com' });
  });

  it('rejects whitespace or control characters inside', () => {
    for (const raw of ['al ice', 'al\tice', 'al\u0000ice', 'al\u007fice', 'al\u2028ice']) {
      expect(checkIdentifier(raw)).toMatchObject({ ok: false, problem: 'inner_whitespace' });
    }
  });

  it('accepts exactly 254 characters and rejects 255', () => {
    expect(checkIdentifier('a'.repeat(MAX_IDENTIFIER_LENGTH))).toMatchObject({ ok: true });
    expect(checkIdentifier('a'.repeat(MAX_IDENTIFIER_LENGTH + 1))).toMatchObject({ ok: false, problem: 'too_long' });
    expect(checkIdentifier(`  ${'a'.repeat(MAX_IDENTIFIER_LENGTH)}  `)).toMatchObject({ ok: true });
  });

  it('accepts ordinary usernames and emails', () => {
    for (const raw of ['bob', 'alice@example.com', 'user_42', 'ünïcødé']) {
      expect(checkIdentifier(raw)).toEqual({ ok: true, value: raw });
    }
  });
});

describe('foldIdentifier', () => {
  it('folds the way the server does: trim, NFC, lowercase', () => {
    expect(foldIdentifier('  Alice@Example.COM ')).toBe('alice@example.com');
    expect(foldIdentifier('Cafe\u0301')).toBe('caf\u00e9');
  });
});

describe('sameIdentifier', () => {
  it('compares the way the server folds', () => {
    expect(sameIdentifier('Alice@Example.com', 'alice@example.com')).toBe(true);
    expect(sameIdentifier(' alice ', 'alice')).toBe(true);
    expect(sameIdentifier('CAFE\u0301', 'caf\u00e9')).toBe(true);
    expect(sameIdentifier('alice', 'bob')).toBe(false);
    expect(sameIdentifier(null, 'alice')).toBe(false);
    expect(sameIdentifier('alice', undefined)).toBe(false);
  });
});
