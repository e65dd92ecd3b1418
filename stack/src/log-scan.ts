/** Which of a folder's logs hold any of some strings (the stack's passwords, say). */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK_BYTES = 1 << 20;

/** Whether the file holds any of `needles`, read once, in chunks: a long-lived stack's logs outgrow one string. */
function fileHoldsAny(path: string, needles: string[]): boolean {
  const overlap = Math.max(0, ...needles.map((needle) => needle.length - 1));
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let carried = '';
    for (let read; (read = readSync(fd, chunk)) > 0; ) {
      const window = carried + chunk.toString('latin1', 0, read);
      if (needles.some((needle) => window.includes(needle))) return true;
      carried = overlap === 0 ? '' : window.slice(-overlap);
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The files of `logDir` that hold any of `needles`. */
export function logsHolding(logDir: string, needles: string[]): string[] {
  return readdirSync(logDir).filter((file) => fileHoldsAny(join(logDir, file), needles));
}
