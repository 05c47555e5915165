import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../../src/protocol/manifest/manifest.js';
import { SavedFiles, saveAsProblem } from '../../../../src/session/receive/disk/saved-files.js';
import { tempDir, visibleFiles } from '../../../helpers/files.js';

/** A manifest with what the naming reads (name, type, id, sha256); the rest is never looked at here. */
const manifestOf = (name: string, n = 0) =>
  ({
    name,
    type: 'image/jpeg',
    id: n.toString(16).padStart(16, '0'),
    sha256: 'ab'.repeat(32),
  }) as Manifest;

/** A verified file waiting in the partial folder, as the disk store leaves it before saving. */
function partial(out: string, bytes: Buffer = randomBytes(16)): string {
  const dir = join(out, '.mqimg-partial');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${randomBytes(8).toString('hex')}.part`);
  writeFileSync(path, bytes);
  return path;
}

const NOW = new Date(2026, 11, 7, 9, 5, 3).getTime(); // local time 2026-12-07 09:05:03

describe('saved files: names that never run out', () => {
  it('saves the 10,001st image of one name, and the next ones, without trying every earlier name', async () => {
    const out = tempDir();
    writeFileSync(join(out, 'DSCN0010.jpg'), 'x');
    for (let n = 1; n <= 9999; n++) writeFileSync(join(out, `DSCN0010-${n}.jpg`), 'x');
    const saved = new SavedFiles({ outDir: out });
    await saved.start();
    const first = await saved.save(partial(out), manifestOf('DSCN0010.jpg'), 'cam/1', NOW);
    const second = await saved.save(partial(out), manifestOf('DSCN0010.jpg'), 'cam/1', NOW);
    expect([first, second]).toEqual([join(out, 'DSCN0010-10000.jpg'), join(out, 'DSCN0010-10001.jpg')]);
    expect(readdirSync(out).filter((f) => f.startsWith('DSCN0010'))).toHaveLength(10_002);
  });

  it('never overwrites: a file that appears under the remembered next name is stepped over', async () => {
    const out = tempDir();
    const saved = new SavedFiles({ outDir: out });
    const a = await saved.save(partial(out), manifestOf('snap.jpg'), 'cam/1', NOW);
    writeFileSync(join(out, 'snap-1.jpg'), 'someone else');
    const b = await saved.save(partial(out), manifestOf('snap.jpg'), 'cam/1', NOW);
    expect([a, b]).toEqual([join(out, 'snap.jpg'), join(out, 'snap-2.jpg')]);
    expect(readFileSync(join(out, 'snap-1.jpg'), 'utf8')).toBe('someone else');
  });

  it('fills a --save-as template with folders for the date and the topic', async () => {
    const out = tempDir();
    const saved = new SavedFiles({ outDir: out, saveAs: '{date}/{topic}/{stem}-{time}-{sha8}{ext}' });
    const path = await saved.save(partial(out), manifestOf('front door.jpg', 7), 'cam/door', NOW);
    expect(path).toBe(join(out, '2026-12-07', 'cam', 'door', 'front door-090503-abababab.jpg'));
    // A sender's name or topic cannot climb out of the folder.
    expect(saved.pathFor(manifestOf('../../etc/passwd'), '../..', NOW)).not.toContain('..');
  });

  it('refuses templates that are empty, leave the folder or use an unknown placeholder', () => {
    expect(saveAsProblem('')).toMatch(/empty/);
    expect(saveAsProblem('/tmp/{name}')).toMatch(/inside --out/);
    expect(saveAsProblem('{date}/../{name}')).toMatch(/inside --out/);
    expect(saveAsProblem('{nmae}')).toMatch(/\{nmae\} is not a placeholder/);
    expect(saveAsProblem('{yyyy}/{mm}/{dd}/{HH}{MM}{SS}-{id}{ext}')).toBeUndefined();
    expect(() => new SavedFiles({ outDir: tempDir(), keep: 0 })).toThrow(/--keep 0/);
    expect(() => new SavedFiles({ outDir: tempDir(), latest: '../x.jpg' })).toThrow(/--latest/);
  });
});

describe('saved files: --latest and --keep', () => {
  it('keeps latest equal to the newest save, and at most `keep` others, emptied date folders removed', async () => {
    const out = tempDir();
    const saved = new SavedFiles({
      outDir: out,
      latest: 'current.jpg',
      keep: 2,
      saveAs: '{date}/{stem}-{id}{ext}',
    });
    await saved.start();
    const images = [randomBytes(100), randomBytes(100), randomBytes(100)];
    const days = [NOW - 2 * 86_400_000, NOW - 86_400_000, NOW];
    const paths: string[] = [];
    for (const [i, bytes] of images.entries())
      paths.push(
        await saved.save(partial(out, bytes), manifestOf('snapshot.jpg', i), 'cam/1', days[i] ?? NOW),
      );
    expect(readFileSync(join(out, 'current.jpg')).equals(images[2] ?? Buffer.alloc(0))).toBe(true);
    const left = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.parentPath.includes('.mqimg-partial') && e.name !== 'current.jpg')
      .map((e) => join(e.parentPath, e.name));
    expect(left.sort()).toEqual(paths.slice(1).sort());
    // The first day's folder emptied out and went.
    expect(visibleFiles(out).sort()).toEqual(['2026-12-06', '2026-12-07', 'current.jpg']);
  });

  it('counts images found in the folder at start', async () => {
    const out = tempDir();
    writeFileSync(join(out, 'old-1.jpg'), 'a');
    writeFileSync(join(out, 'old-2.jpg'), 'b');
    const saved = new SavedFiles({ outDir: out, keep: 2 });
    await saved.start();
    await saved.save(partial(out), manifestOf('new.jpg'), 'cam/1', NOW);
    expect(visibleFiles(out).sort()).toEqual(['new.jpg', 'old-2.jpg']);
  });
});
