import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty folder under the system's temporary folder. */
export const tempDir = (prefix = 'mqimg-test-'): string => mkdtempSync(join(tmpdir(), prefix));

/** SHA-256 of `bytes`, lowercase hex, computed here independently of the code under test. */
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The JSON objects among the lines of a command's output (`--json`). */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
