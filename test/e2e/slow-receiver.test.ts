import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startReceiver } from '../helpers/cli.js';
import { jsonLines, tempDir } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, useMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { sendAsIs } from '../helpers/transfer.js';

/**
 * Flow control (issue 3): a sender at full speed, through a Mosquitto with default limits, to a receiver whose
 * link is throttled far below the sender's pace. Every file must arrive verified with fewer than 1% of chunks
 * sent more than once. `mosquitto_pub -l` loses messages in this situation (FACTS.md).
 */
describe.skipIf(!mosquittoRequired())('a slow receiver behind a default Mosquitto', () => {
  const broker = useMosquitto();
  let source: string;
  beforeAll(async () => {
    // ~2 MB of incompressible pixels: ~1970 chunks of 1 KiB, twice what Mosquitto queues for one QoS 1
    // subscriber (20 in flight + 1000 queued) before it drops: without flow control, this loses chunks.
    source = await writeNoisePng(820);
  });

  // The default receiver, and the one Mosquitto is hardest on: MQTT 3.1.1 (20 in flight, not the 1024 that an
  // MQTT 5 receiver asks for) with chunks at QoS 1 (subject to max_queued_messages).
  for (const [version, qos] of [
    ['auto', '0'],
    ['3.1.1', '1'],
  ] as const) {
    it(`delivers every chunk with under 1% resent (MQTT ${version}, chunks at QoS ${qos})`, async () => {
      // 300 KB/s: about 7 s for the file, while the sender alone could publish it in well under a second.
      const proxy = await startLossyProxy(broker.port, { bytesPerSecond: 300_000 });
      try {
        // Subscribed (through the slow link) before the sender starts: a receiver that joined after the sender's
        // blind start would be sent those chunks again, which is not what this test measures.
        const rx = await startReceiver([
          '--out',
          tempDir('mqimg-slow-out-'),
          '--once',
          '--json',
          '--qos',
          qos,
          '--mqtt-version',
          version,
          '--url',
          proxy.url,
        ]);
        const tx = await runCli(['send', ...sendAsIs(source, `slow/${qos}`, '1K'), '--url', broker.url]);
        const received = await rx.done;
        expect(tx.code, tx.stderr).toBe(0);
        expect(received.code, received.stderr).toBe(0);
        const delivered = jsonLines(tx.stdout)[0] ?? {};
        const chunks = Number(delivered.chunks);
        expect(chunks).toBe(Math.ceil(readFileSync(source).length / 1024));
        expect(Number(delivered.retransmittedChunks)).toBeLessThan(chunks / 100);
        const completed = jsonLines(received.stdout).find((e) => e.event === 'completed');
        expect(readFileSync(String(completed?.path)).equals(readFileSync(source))).toBe(true);
        expect(broker.log()).not.toMatch(/Outgoing messages are being dropped/);
      } finally {
        await proxy.close();
      }
    });
  }

  it('a receiver that dies mid-transfer costs no resend storm: the other finishes, the sender with it', async () => {
    // Two receivers on 100 kB/s links; one is killed (no last word) a second in. The sender stops waiting for it
    // after 3 s of silence, and probes it meanwhile with a chunk or two, not a window's worth.
    const small = await writeNoisePng(300);
    const proxies = [
      await startLossyProxy(broker.port, { bytesPerSecond: 100_000 }),
      await startLossyProxy(broker.port, { bytesPerSecond: 100_000 }),
    ];
    try {
      const [live, doomed] = await Promise.all(
        proxies.map((p) =>
          startReceiver(['--out', tempDir('mqimg-leave-out-'), '--once', '--json', '--url', p.url]),
        ),
      );
      const killer = setTimeout(() => doomed?.child.kill('SIGKILL'), 1000);
      const tx = await runCli([
        'send',
        ...sendAsIs(small, 'slow/leave', '1K'),
        '--receivers',
        '1',
        '--url',
        broker.url,
      ]);
      clearTimeout(killer);
      const received = await live?.done;
      expect(tx.code, tx.stderr).toBe(0);
      expect(received?.code, received?.stderr).toBe(0);
      const delivered = jsonLines(tx.stdout)[0] ?? {};
      const chunks = Number(delivered.chunks);
      expect(chunks).toBe(Math.ceil(readFileSync(small).length / 1024));
      expect(Number(delivered.publishedChunks)).toBeLessThanOrEqual(Math.ceil(chunks * 1.05));
    } finally {
      for (const p of proxies) await p.close();
    }
  });
});
