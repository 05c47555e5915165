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

  it('lets only util/clock.ts read the time or set timers in protocol, receiver, session, page, API and feed code', () => {
    const parts = ['protocol/', 'receiver-core/', 'session/', 'display/', 'api/', 'feeds/'];
    const offenders = files
      .filter((f) => parts.some((p) => f.path.startsWith(p)))
      .flatMap((f) => {
        const body = code(f.text);
        const found = [
          ...(/\b(set|clear)(Timeout|Interval)\(/.test(body) ? ['timers'] : []),
          ...(/\bDate\.now\b/.test(body) ? ['Date.now'] : []),
          ...(/\bperformance\.now\b/.test(body) ? ['performance.now'] : []),
          ...(/\b(setTimeout|setInterval)\b[^;]*'node:timers\/promises'/.test(body)
            ? ['node:timers/promises']
            : []),
        ];
        return found.map((what) => `${f.path}: ${what}`);
      });
    expect(offenders).toEqual([]);
  });

  it('keeps every folder of src/ to 16 files or fewer, so that folders carry the structure', () => {
    const perFolder = new Map<string, number>();
    for (const f of files) {
      const folder = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '.';
      perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
    }
    expect([...perFolder].filter(([, n]) => n > 16)).toEqual([]);
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

  it('keeps the display page browser-only: nothing it imports, however indirectly, needs Node', () => {
    const byPath = new Map(files.map((f) => [f.path, f]));
    const reached = new Set<string>();
    const visit = (path: string) => {
      if (reached.has(path)) return;
      reached.add(path);
      const file = byPath.get(path);
      for (const spec of importsOf(file?.text ?? '')) {
        if (!spec.startsWith('.')) continue;
        const target = join(path, '..', spec).replaceAll('\\', '/').replace(/\.js$/, '.ts');
        visit(target);
      }
    };
    for (const f of files) if (f.path.startsWith('display/')) visit(f.path);
    const offenders = [...reached].flatMap((path) => {
      const body = code(byPath.get(path)?.text ?? '');
      const found = [
        ...importsOf(body).filter(
          (m) => m.startsWith('node:') || m === 'sharp' || m === 'ws' || m === 'aedes',
        ),
        ...(/\bBuffer\b/.test(body) ? ['Buffer'] : []),
        ...(/\bprocess\./.test(body) ? ['process'] : []),
      ];
      return found.map((what) => `${path}: ${what}`);
    });
    expect(reached.size).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });

  // A file holds one concept; folders carry the structure. The cap only catches a file that grew two concepts: at
  // 400 it split files by size (send-planner types moved out to fit), so it is 500, which the receiver core needs.
  it('keeps every file under 500 lines', () => {
    const long = files
      .map((f) => ({
        path: relative('.', f.path),
        lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0),
      }))
      .filter((f) => f.lines > 500);
    expect(long).toEqual([]);
  });
});
