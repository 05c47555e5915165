import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, SAMPLES, startReceiver } from '../helpers/cli.js';
import { jsonLines, sha256, tempDir } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, startMosquitto, useMosquitto } from '../helpers/mosquitto.js';
import { writeNoisePng } from '../helpers/noise-image.js';
import { sendAsIs, transfer } from '../helpers/transfer.js';

describe.skipIf(!mosquittoRequired())('lossy paths: the receiver still saves a byte-identical file', () => {
  const broker = useMosquitto();

  it('recovers chunks dropped between the broker and the receiver by asking for them again', async () => {
    const seen = new Map<string, number>();
    // Drop the first copy of every 5th chunk, and every copy of chunk 3 three times over: retransmissions of
    // retransmissions must work too.
    const proxy = await startLossyProxy(broker.port, (topic) => {
      const m = /\/c\/(\d+)$/.exec(topic);
      if (!m) return false;
      const index = Number(m[1]);
      const copies = (seen.get(topic) ?? 0) + 1;
      seen.set(topic, copies);
      return (index % 5 === 0 && copies === 1) || (index === 3 && copies <= 3);
    });
    try {
      const source = join(SAMPLES, 'landscape.jpg');
      const { tx, rx, out, sent } = await transfer({
        rx: ['--json', '--url', proxy.url],
        tx: [...sendAsIs(source, 'lossy/1', '2K'), '--url', broker.url],
      });
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      const chunks = Math.ceil(readFileSync(source).length / 2048);
      expect(proxy.dropped()).toBe(Math.ceil(chunks / 5) + 3);
      expect(sent[0]?.retransmittedChunks).toBeGreaterThanOrEqual(proxy.dropped());
      expect(readFileSync(join(out, 'landscape.jpg')).equals(readFileSync(source))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('serves several receivers that lose the same chunks with one resend each (merged requests)', async () => {
    // Both displays lose the first copy of every 10th chunk, as when the broker drops for both at once.
    const dropper = () => {
      const seen = new Set<string>();
      return (topic: string) => {
        const m = /\/c\/(\d+)$/.exec(topic);
        if (!m || Number(m[1]) % 10 !== 0 || seen.has(topic)) return false;
        seen.add(topic);
        return true;
      };
    };
    const a = await startLossyProxy(broker.port, dropper());
    const b = await startLossyProxy(broker.port, dropper());
    try {
      const source = join(SAMPLES, 'landscape.jpg');
      const outs = [tempDir(), tempDir()];
      const receivers = await Promise.all(
        [a, b].map((p, i) => startReceiver(['--out', outs[i] ?? '', '--once', '--url', p.url])),
      );
      const tx = await runCli([
        'send',
        ...sendAsIs(source, 'merged/1', '2K'),
        '--receivers',
        '2',
        '--url',
        broker.url,
      ]);
      expect(tx.code, tx.stderr).toBe(0);
      for (const r of await Promise.all(receivers.map((x) => x.done))) expect(r.code, r.stderr).toBe(0);
      for (const out of outs)
        expect(readFileSync(join(out, 'landscape.jpg')).equals(readFileSync(source))).toBe(true);
      const lost = Math.ceil(Math.ceil(readFileSync(source).length / 2048) / 10);
      expect(a.dropped()).toBe(lost);
      // Each lost chunk resent about once, not once per display.
      expect(Number(jsonLines(tx.stdout)[0]?.retransmittedChunks)).toBeLessThan(1.5 * lost);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('recovers the tail when the last chunks are lost and nothing after them reveals the gap', async () => {
    const seen = new Set<string>();
    const proxy = await startLossyProxy(broker.port, (topic) => {
      const m = /\/c\/(\d+)$/.exec(topic);
      if (!m || Number(m[1]) < 20 || seen.has(topic)) return false;
      seen.add(topic);
      return true; // first copy of every chunk from 20 on
    });
    try {
      const source = join(SAMPLES, 'sideways-exif6.jpg');
      const { tx, rx, out } = await transfer({
        rx: ['--url', proxy.url],
        tx: [...sendAsIs(source, 'lossy/tail', '4K'), '--url', broker.url],
      });
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(proxy.dropped()).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'sideways-exif6.jpg')).equals(readFileSync(source))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('survives a Mosquitto whose queue is made tiny, so that it drops messages for real', async () => {
    const tiny = await startMosquitto(['max_inflight_messages 2', 'max_queued_messages 3']);
    try {
      // ~43 KB of incompressible pixels in 1 KiB chunks: 43 chunks against 2 in flight and 3 queued.
      const source = await writeNoisePng(120);
      // MQTT 3.1.1 on both sides: with MQTT 5 Mosquitto would tell the client its Receive Maximum instead.
      // --qos 1: Mosquitto's queue limits apply to QoS 1 deliveries (QoS 0 ones it buffers without that limit).
      const { tx, rx, completed, sent } = await transfer({
        rx: ['--json', '--qos', '1', '--mqtt-version', '3.1.1'],
        tx: [...sendAsIs(source, 'tiny/1', '1K'), '--mqtt-version', '3.1.1'],
        url: tiny.url,
      });
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(completed.sha256).toBe(sha256(readFileSync(source)));
      expect(readFileSync(String(completed.path)).equals(readFileSync(source))).toBe(true);
      // The broker really dropped messages (it says so in its log), and mqimg resent them.
      expect(tiny.log()).toMatch(/Outgoing messages are being dropped/);
      expect(Number(sent[0]?.retransmittedChunks)).toBeGreaterThan(0);
    } finally {
      await tiny.stop();
    }
  });
});
