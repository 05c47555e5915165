import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Small images made by scripts/make-fixtures.mjs (a damaged JPEG, a HEIC, GPS EXIF, EXIF orientation 6). */
export const FIXTURE_IMAGES = fileURLToPath(new URL('../fixtures/images/', import.meta.url));

/** A new empty folder under the system's temporary folder. */
export const tempDir = (prefix = 'mqimg-test-'): string => mkdtempSync(join(tmpdir(), prefix));

/** The files a user sees in a folder: the receiver's hidden `.mqimg-partial` folder (and any dot file) excluded. */
export const visibleFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();

/** SHA-256 of `bytes`, lowercase hex, computed here independently of the code under test. */
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The JSON objects among the lines of a command's output (`--json`). */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
