import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PARTIAL_DIR } from '../../../../src/session/receive/disk/partial-file.js';
import {
  loadPartialStates,
  PARTIAL_TTL_MS,
  savePartialState,
} from '../../../../src/session/receive/disk/partial-state.js';
import { buildManifest } from '../../../../src/session/send/send-session.js';

describe('partial state on disk', () => {
  const manifest = buildManifest(
    { bytes: Buffer.alloc(5000, 3), name: 'x.png', mediaType: 'image/png', width: 1, height: 1 },
    1024,
    0,
  );

  it('keeps fresh partial transfers and deletes those older than the time limit (24 h by default)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-ttl-'));
    const dir = join(out, PARTIAL_DIR);
    mkdirSync(dir);
    const now = Date.now();
    const fresh = { ...manifest, id: 'aaaaaaaaaaaaaaaa' };
    const stale = { ...manifest, id: 'bbbbbbbbbbbbbbbb' };
    for (const m of [fresh, stale]) writeFileSync(join(dir, `${m.id}.part`), Buffer.alloc(2048));
    await savePartialState(out, {
      topic: 'cam/1',
      manifest: fresh,
      bitmap: 'Aw==',
      proof: '',
      savedAtMs: now - 60_000,
    });
    await savePartialState(out, {
      topic: 'cam/1',
      manifest: stale,
      bitmap: 'Aw==',
      proof: '',
      savedAtMs: now - PARTIAL_TTL_MS - 1,
    });
    // A partial file without a state, old, and one that is not JSON at all.
    writeFileSync(join(dir, 'cccccccccccccccc.part'), 'orphan');
    utimesSync(
      join(dir, 'cccccccccccccccc.part'),
      new Date(now - PARTIAL_TTL_MS - 1000),
      new Date(now - PARTIAL_TTL_MS - 1000),
    );
    writeFileSync(join(dir, 'dddddddddddddddd.json'), '{not json');
    const states = await loadPartialStates(out, PARTIAL_TTL_MS, now);
    expect([...states.keys()]).toEqual([fresh.id]);
    expect(existsSync(join(dir, `${fresh.id}.part`))).toBe(true);
    for (const gone of [
      `${stale.id}.part`,
      `${stale.id}.json`,
      'cccccccccccccccc.part',
      'dddddddddddddddd.json',
    ]) {
      expect(existsSync(join(dir, gone)), gone).toBe(false);
    }
  });

  it("leaves files that are not a transfer's alone, such as the saved signatures of a --trust receiver", async () => {
    const out = mkdtempSync(join(tmpdir(), 'mqimg-ttl-'));
    const dir = join(out, PARTIAL_DIR);
    mkdirSync(dir);
    writeFileSync(join(dir, 'signatures.json'), '{}');
    writeFileSync(join(dir, 'notes.part'), 'x');
    await loadPartialStates(out, 0, Date.now() + PARTIAL_TTL_MS);
    expect(existsSync(join(dir, 'signatures.json'))).toBe(true);
    expect(existsSync(join(dir, 'notes.part'))).toBe(true);
  });
});
