import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, SAMPLES, startCli } from '../helpers/cli.js';
import { jsonLines, tempDir as makeTempDir, sha256 } from '../helpers/files.js';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { mosquittoRequired, startMosquitto, useMosquitto } from '../helpers/mosquitto.js';

const tempDir = () => makeTempDir('mqimg-lossy-');

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
      const out = tempDir();
      const source = join(SAMPLES, 'landscape.jpg');
      const rx = startCli(['receive', '--out', out, '--once', '--json', '--url', proxy.url]);
      const tx = await runCli([
        'send',
        source,
        '--topic',
        'lossy/1',
        '--format',
        'original',
        '--chunk-size',
        '2K',
        '--json',
        '--url',
        broker.url,
      ]);
      const received = await rx.done;
      expect(tx.code, tx.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      const chunks = Math.ceil(readFileSync(source).length / 2048);
      expect(proxy.dropped()).toBe(Math.ceil(chunks / 5) + 3);
      const delivered = jsonLines(tx.stdout)[0];
      expect(delivered?.retransmittedChunks).toBeGreaterThanOrEqual(proxy.dropped());
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
      const receivers = [a, b].map((p, i) =>
        startCli(['receive', '--out', outs[i] ?? '', '--once', '--url', p.url]),
      );
      await new Promise((r) => setTimeout(r, 500));
      const tx = await runCli([
        'send',
        source,
        '--topic',
        'merged/1',
        '--format',
        'original',
        '--chunk-size',
        '2K',
        '--receivers',
        '2',
        '--json',
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
      const out = tempDir();
      const source = join(SAMPLES, 'sideways-exif6.jpg');
      const rx = startCli(['receive', '--out', out, '--once', '--url', proxy.url]);
      const tx = await runCli([
        'send',
        source,
        '--topic',
        'lossy/tail',
        '--format',
        'original',
        '--chunk-size',
        '4K',
        '--url',
        broker.url,
      ]);
      expect(tx.code, tx.stderr).toBe(0);
      expect((await rx.done).code).toBe(0);
      expect(readFileSync(join(out, 'sideways-exif6.jpg')).equals(readFileSync(source))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('survives a Mosquitto whose queue is made tiny, so that it drops messages for real', async () => {
    const tiny = await startMosquitto(['max_inflight_messages 2', 'max_queued_messages 3']);
    try {
      const out = tempDir();
      // A 400 KB file of noise-like bytes in 1 KiB chunks: ~400 chunks against a queue of 5.
      const source = join(out, '..', `noise-${Date.now()}.png`);
      const { default: sharp } = await import('sharp');
      const pixels = Buffer.alloc(360 * 360 * 3);
      for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
      writeFileSync(
        source,
        await sharp(pixels, { raw: { width: 360, height: 360, channels: 3 } })
          .png()
          .toBuffer(),
      );
      // MQTT 3.1.1 on both sides: with MQTT 5 Mosquitto would tell the client its Receive Maximum instead.
      // --qos 1: Mosquitto's queue limits apply to QoS 1 deliveries (QoS 0 ones it buffers without that limit).
      const rx = startCli([
        'receive',
        '--out',
        out,
        '--once',
        '--json',
        '--qos',
        '1',
        '--url',
        tiny.url,
        '--mqtt-version',
        '3.1.1',
      ]);
      const tx = await runCli([
        'send',
        source,
        '--topic',
        'tiny/1',
        '--format',
        'original',
        '--chunk-size',
        '1K',
        '--json',
        '--url',
        tiny.url,
        '--mqtt-version',
        '3.1.1',
      ]);
      const received = await rx.done;
      expect(tx.code, tx.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      const completed = jsonLines(received.stdout).find((e) => e.event === 'completed');
      expect(completed?.sha256).toBe(sha256(readFileSync(source)));
      expect(readFileSync(String(completed?.path)).equals(readFileSync(source))).toBe(true);
      // The broker really dropped messages (it says so in its log), and mqimg resent them.
      expect(tiny.log()).toMatch(/Outgoing messages are being dropped/);
      expect(Number(jsonLines(tx.stdout)[0]?.retransmittedChunks)).toBeGreaterThan(0);
    } finally {
      await tiny.stop();
    }
  });
});
