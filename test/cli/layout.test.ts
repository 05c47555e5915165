import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The CLI's folders stay small enough to find a file in (issue 23): at most 16 files directly in each. */
const cli = fileURLToPath(new URL('../../src/cli/', import.meta.url));

describe('src/cli layout', () => {
  it('has parts of the CLI in subfolders, none holding more than 16 files directly', () => {
    const folders = [cli, ...readdirSync(cli, { recursive: true }).map((f) => join(cli, String(f)))].filter(
      (path) => !path.endsWith('.ts'),
    );
    const counts = folders.map((dir) => ({
      dir,
      files: readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).length,
    }));
    expect(counts.length).toBeGreaterThanOrEqual(4);
    expect(counts.filter((c) => c.files > 16)).toEqual([]);
  });
});
