import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiving } from '../../src/api/receive-images.js';
import { sendFeed } from '../../src/api/send-feed.js';
import type { ImageInput } from '../../src/api/send-images.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/broker/embedded-broker.js';

const SAMPLE = fileURLToPath(new URL('../../samples/test-card.jpg', import.meta.url));
let broker: EmbeddedBroker;
const out = mkdtempSync(join(tmpdir(), 'mqimg-send-feed-'));

beforeAll(async () => {
  broker = await startEmbeddedBroker();
});

afterAll(async () => {
  await broker.close();
  rmSync(out, { recursive: true, force: true });
});

describe('sendFeed', () => {
  it('reads a file path the source yields (it used to send it as an empty image)', async () => {
    let onSaved: (path: string) => void = () => {};
    const saved = new Promise<string>((resolve) => (onSaved = resolve));
    const receiving = await startReceiving({
      url: broker.url,
      outDir: out,
      onEvent: (event) => {
        if (event.event === 'completed') onSaved(event.path);
      },
    });
    const errors: unknown[] = [];
    async function* source(): AsyncGenerator<ImageInput> {
      yield SAMPLE;
    }
    try {
      await sendFeed(source(), {
        url: broker.url,
        topic: 'feed/test',
        format: 'original',
        supersede: false,
        timeoutMs: 10_000,
        onError: (error) => errors.push(error),
      });
      expect(errors).toEqual([]);
      expect(readFileSync(await saved).equals(readFileSync(SAMPLE))).toBe(true);
    } finally {
      await receiving.stop();
    }
  });
});
