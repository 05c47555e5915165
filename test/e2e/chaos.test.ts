import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { jsonLines, sha256 } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';

/** A deterministic pseudo-random stream, so that a failing run can be replayed. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Chaos: six transfers from three senders to two receivers, every connection through a proxy that drops,
 * duplicates, delays and reorders PUBLISH packets, and cuts connections every second or so. Every file must end
 * byte-identical in each receiver's folder, or be reported failed; none may be corrupt.
 */
describe.skipIf(!mosquittoRequired())('chaos', () => {
  const broker = useMosquitto();
  const sources: string[] = [];
  beforeAll(async () => {
    for (const [i, side] of [200, 260, 320, 380, 150, 300].entries())
      sources.push(await writeNoisePng(side, 1000 + i));
  });

  it('ends with every file byte-identical or reported failed, none corrupt', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const chaos = () =>
      startLossyProxy(broker.port, {
        drop: () => rand() < 0.05,
        duplicate: () => rand() < 0.05,
        delayMs: () => (rand() < 0.05 ? rand() * 80 : 0),
      });
    const proxies = await Promise.all([chaos(), chaos(), chaos(), chaos(), chaos()]);
    const [rxA, rxB, ...txProxies] = proxies;
    const cutter = setInterval(() => proxies[Math.floor(rand() * proxies.length)]?.cut(), 900);
    try {
      const outs = [
        mkdtempSync(join(tmpdir(), 'mqimg-chaos-a-')),
        mkdtempSync(join(tmpdir(), 'mqimg-chaos-b-')),
      ];
      const receivers = [rxA, rxB].map((proxy, i) =>
        startCli(['receive', '--out', outs[i] ?? '', '--json', '--timeout', '20', '--url', proxy?.url ?? '']),
      );
      await new Promise((r) => setTimeout(r, 500));
      const senders = txProxies.map((proxy, i) =>
        startCli([
          'send',
          sources[i] ?? '',
          sources[i + 3] ?? '',
          '--topic',
          `chaos/${i}`,
          '--format',
          'original',
          '--chunk-size',
          '2K',
          '--receivers',
          '2',
          '--timeout',
          '20',
          '--json',
          '--url',
          proxy.url,
        ]),
      );
      const sent = await Promise.all(senders.map((s) => s.done));
      clearInterval(cutter);
      // Every sender has finished: stop the receivers (Ctrl-C), which stay up meanwhile to answer senders that
      // did not hear their final status.
      for (const r of receivers) r.child.kill('SIGINT');
      const received = await Promise.all(receivers.map((r) => r.done));
      const expected = new Map(sources.map((s) => [sha256(readFileSync(s)), s]));
      for (const [i, r] of received.entries()) {
        const events = jsonLines(r.stdout);
        const completed = events.filter((e) => e.event === 'completed');
        const visible = readdirSync(outs[i] ?? '').filter((f) => !f.startsWith('.'));
        // Nothing corrupt: every saved file is byte for byte one of the sources, and was reported.
        expect(visible.length, `seed ${seed}`).toBe(completed.length);
        for (const e of completed)
          expect(expected.has(sha256(readFileSync(String(e.path)))), `seed ${seed}`).toBe(true);
        // With retransmission, reconnection and resumption, everything does arrive.
        expect(r.code, `seed ${seed}: signal ${r.signal} ${r.stderr.slice(-500)}`).toBe(130);
        const senders = sent.map((s) => `${s.code} ${s.stderr.slice(-300)}`).join(' | ');
        expect(new Set(completed.map((e) => e.sha256)).size, `seed ${seed}: senders ${senders}`).toBe(6);
      }
      for (const s of sent) expect(s.code, `seed ${seed}: ${s.stderr.slice(-1000)}`).toBe(0);
    } finally {
      clearInterval(cutter);
      await Promise.all(proxies.map((p) => p.close()));
    }
  }, 90_000);
});
