import { config } from '../../config';

/**
 * The identifier of this browser's confirmed purchase, kept across reloads so
 * the page can ask the API whether it still holds (FE-6). Storage can be
 * unavailable (private mode, quotas); the page then simply forgets.
 */

export function readRememberedIdentifier(): string | null {
  try {
    return window.localStorage.getItem(config.identifierStorageKey) || null;
  } catch {
    return null;
  }
}

export function rememberIdentifier(userId: string): void {
  try {
    window.localStorage.setItem(config.identifierStorageKey, userId);
  } catch {
    // Not fatal: the server still enforces one per shopper.
  }
}
