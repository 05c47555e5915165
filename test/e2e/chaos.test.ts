import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, sha256, tempDir, visibleFiles } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { seededRandom } from '../helpers/random.js';
import { sendAsIs } from '../helpers/transfer.js';

/**
 * The seed of `stream` derived from the run's seed (a splitmix32-style mix): each consumer of randomness gets its
 * own generator, so that what one draws does not depend on how often another drew before it.
 */
function derivedSeed(seed: number, stream: string): number {
  let h = seed >>> 0;
  for (const c of stream) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The run's seed: CHAOS_SEED to replay a run, else a random one, printed so that a failure can be replayed. */
function chaosSeed(): number {
  const given = process.env.CHAOS_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`CHAOS_SEED must be a whole number, not ${given}`);
  console.info(`chaos: seed ${seed} (replay with CHAOS_SEED=${seed})`);
  return seed;
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
    const seed = chaosSeed();
    const replay = `replay with CHAOS_SEED=${seed}`;
    /** Each proxy decides drops, duplicates and delays with generators of its own, derived from the seed. */
    const chaos = (name: string) => {
      const drop = seededRandom(derivedSeed(seed, `${name}/drop`));
      const duplicate = seededRandom(derivedSeed(seed, `${name}/duplicate`));
      const delay = seededRandom(derivedSeed(seed, `${name}/delay`));
      return startLossyProxy(broker.port, {
        drop: () => drop() < 0.05,
        duplicate: () => duplicate() < 0.05,
        delayMs: () => {
          const [roll, ms] = [delay(), delay()];
          return roll < 0.05 ? ms * 80 : 0;
        },
      });
    };
    const proxies = await Promise.all(['rx-a', 'rx-b', 'tx-0', 'tx-1', 'tx-2'].map(chaos));
    const [rxA, rxB, ...txProxies] = proxies;
    const cut = seededRandom(derivedSeed(seed, 'cutter'));
    const cutter = setInterval(() => proxies[Math.floor(cut() * proxies.length)]?.cut(), 900);
    try {
      const outs = [tempDir('mqimg-chaos-a-'), tempDir('mqimg-chaos-b-')];
      // Both receivers subscribed before any sender starts (a cut may interrupt the wait: the receiver reconnects).
      const receivers = await Promise.all(
        [rxA, rxB].map((proxy, i) =>
          startReceiver(['--out', outs[i] ?? '', '--json', '--timeout', '20', '--url', proxy?.url ?? '']),
        ),
      );
      const senders = txProxies.map((proxy, i) =>
        startCli([
          'send',
          ...sendAsIs([sources[i] ?? '', sources[i + 3] ?? ''], `chaos/${i}`, '2K'),
          '--receivers',
          '2',
          '--timeout',
          '20',
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
        const visible = visibleFiles(outs[i] ?? '');
        // Nothing corrupt: every saved file is byte for byte one of the sources, and was reported.
        expect(visible.length, replay).toBe(completed.length);
        for (const e of completed)
          expect(expected.has(sha256(readFileSync(String(e.path)))), replay).toBe(true);
        // With retransmission, reconnection and resumption, everything does arrive.
        expect(r.code, `${replay}: signal ${r.signal} ${r.stderr.slice(-500)}`).toBe(130);
        const senders = sent.map((s) => `${s.code} ${s.stderr.slice(-300)}`).join(' | ');
        expect(new Set(completed.map((e) => e.sha256)).size, `${replay}: senders ${senders}`).toBe(6);
      }
      for (const s of sent) expect(s.code, `${replay}: ${s.stderr.slice(-1000)}`).toBe(0);
    } finally {
      clearInterval(cutter);
      await Promise.all(proxies.map((p) => p.close()));
    }
  }, 90_000);
});
