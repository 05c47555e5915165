import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The layering ARCHITECTURE.md describes, checked on the source text so that a change that breaks it fails. */
const src = fileURLToPath(new URL('../src/', import.meta.url));
const files = (readdirSync(src, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ path: f.replaceAll('\\', '/'), text: readFileSync(join(src, f), 'utf8') }));
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
const importsOf = (text: string) => [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');

describe('source layout', () => {
  it('keeps protocol/ browser-safe: no node: imports, no Buffer, no process, no timers', () => {
    const offenders = files
      .filter((f) => f.path.startsWith('protocol/'))
      .flatMap((f) => {
        const body = code(f.text);
        const found = [
          ...importsOf(body).filter((m) => m.startsWith('node:') || (!m.startsWith('.') && m !== 'zod')),
          ...(/\bBuffer\b/.test(body) ? ['Buffer'] : []),
          ...(/\bprocess\./.test(body) ? ['process'] : []),
          ...(/\bset(Timeout|Interval|Immediate)\(/.test(body) ? ['timers'] : []),
          ...(/\bDate\.now\(/.test(body) ? ['Date.now'] : []),
        ];
        return found.map((what) => `${f.path}: ${what}`);
      });
    expect(offenders).toEqual([]);
  });

  it('lets only transport/ import mqtt, only image/ import sharp, and only bin/ exit', () => {
    const offenders = files.flatMap((f) => {
      const imports = importsOf(f.text);
      const found: string[] = [];
      if (imports.includes('mqtt') && !f.path.startsWith('transport/')) found.push('mqtt');
      if (imports.includes('sharp') && !f.path.startsWith('image/')) found.push('sharp');
      if (/process\.exit\(/.test(code(f.text)) && !f.path.startsWith('bin/')) found.push('process.exit');
      return found.map((what) => `${f.path}: ${what}`);
    });
    expect(offenders).toEqual([]);
  });

  it('keeps every file under 400 lines', () => {
    const long = files
      .map((f) => ({
        path: relative('.', f.path),
        lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0),
      }))
      .filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });
});
