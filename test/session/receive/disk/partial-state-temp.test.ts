import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryPathFor } from '../../../../src/session/receive/disk/atomic-write.js';
import { PARTIAL_DIR } from '../../../../src/session/receive/disk/partial-file.js';
import {
  loadPartialStates,
  PARTIAL_TTL_MS,
  savePartialState,
  TEMP_LEFTOVER_MS,
  transferFileKind,
} from '../../../../src/session/receive/disk/partial-state.js';
import { buildManifest } from '../../../../src/session/send/send-session.js';

const ID = 'aaaaaaaaaaaaaaaa';

function age(path: string, ms: number): void {
  const when = new Date(Date.now() - ms);
  utimesSync(path, when, when);
}

describe('partial state and temporary files', () => {
  const manifest = {
    ...buildManifest(
      { bytes: Buffer.alloc(5000, 3), name: 'x.png', mediaType: 'image/png', width: 1, height: 1 },
      1024,
      0,
    ),
    id: ID,
  };

  it('saves through a unique temporary file: concurrent saves of one transfer never collide', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-tmp-'));
    mkdirSync(join(out, PARTIAL_DIR));
    writeFileSync(join(out, PARTIAL_DIR, `${ID}.part`), Buffer.alloc(1024));
    const now = Date.now();
    const states = Array.from({ length: 20 }, (_, i) => ({
      topic: 'cam/1',
      manifest,
      bitmap: 'AQ==',
      proof: '',
      savedAtMs: now - i,
    }));
    await Promise.all(states.map((state) => savePartialState(out, state)));
    expect(readdirSync(join(out, PARTIAL_DIR)).sort()).toEqual([`${ID}.json`, `${ID}.part`]);
    const saved = JSON.parse(readFileSync(join(out, PARTIAL_DIR, `${ID}.json`), 'utf8')) as {
      savedAtMs: number;
    };
    expect(states.map((s) => s.savedAtMs)).toContain(saved.savedAtMs);
  });

  it('deletes temporary files older than a minute (crashed writes), keeps younger ones (writes in progress)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-tmp-'));
    const dir = join(out, PARTIAL_DIR);
    mkdirSync(dir);
    const stale = [
      temporaryPathFor(join(dir, `${ID}.json`)),
      temporaryPathFor(join(dir, 'signatures.json')),
      join(dir, `${ID}.json.tmp`), // the fixed name of earlier versions
    ];
    const fresh = [temporaryPathFor(join(dir, `${ID}.json`)), temporaryPathFor(join(dir, 'signatures.json'))];
    for (const path of [...stale, ...fresh]) writeFileSync(path, '{');
    for (const path of stale) age(path, TEMP_LEFTOVER_MS + 1000);
    writeFileSync(join(dir, 'receiver.lock'), '{}');
    age(join(dir, 'receiver.lock'), PARTIAL_TTL_MS * 2);
    // Even with a time limit of 0 for transfers, a temporary file younger than a minute may be in use.
    await loadPartialStates(out, 0, Date.now());
    for (const path of stale) expect(existsSync(path), path).toBe(false);
    for (const path of fresh) expect(existsSync(path), path).toBe(true);
    expect(existsSync(join(dir, 'receiver.lock'))).toBe(true);
  });

  it("tells a transfer's files from others", () => {
    expect(transferFileKind(`${ID}.json`)).toEqual({ id: ID, kind: 'json' });
    expect(transferFileKind(`${ID}.part`)).toEqual({ id: ID, kind: 'part' });
    expect(transferFileKind(`${ID}.json.tmp`)).toEqual({ id: ID, kind: 'tmp' });
    expect(transferFileKind(`${ID}.json.123-0a1b2c3d-7.tmp`)).toEqual({ id: ID, kind: 'tmp' });
    for (const other of [
      'signatures.json',
      'receiver.lock',
      'notes.part',
      `${ID}.jpg`,
      `${ID}.part.tmp`,
      ID,
    ]) {
      expect(transferFileKind(other), other).toBeUndefined();
    }
  });
});
