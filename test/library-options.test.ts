import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sendFeed } from '../src/api/send-feed.js';
import { receiveImages, sendImages, startReceiving } from '../src/index.js';
import { SAMPLES } from './helpers/cli.js';
import { tempDir } from './helpers/files.js';

/**
 * The library refuses options it does not know (issue 23), before connecting: a mistyped name used to be ignored,
 * and the image went with the default. Port 1 on 127.0.0.1 has no broker: a connection attempt would fail otherwise.
 */
const url = 'mqtt://127.0.0.1:1';

describe('unknown library options', () => {
  it('sendImages({ chunkSize }) is refused naming chunkSize and suggesting chunkBytes', async () => {
    const options = { url, topic: 'cam/1', chunkSize: 4096 } as Parameters<typeof sendImages>[1];
    await expect(sendImages([join(SAMPLES, 'test-card.jpg')], options)).rejects.toMatchObject({
      code: 'usage',
      message: expect.stringMatching(/^sendImages: unknown option 'chunkSize'; did you mean 'chunkBytes'\?/),
      details: { unknown: ['chunkSize'] },
    });
  });

  it('receiveImages, startReceiving and sendFeed refuse theirs too, with the nearest name', async () => {
    const outDir = tempDir();
    await expect(
      receiveImages({ url, outDir, topicFiltr: 'cam/+' } as Parameters<typeof receiveImages>[0]),
    ).rejects.toThrow(/^receiveImages: unknown option 'topicFiltr'; did you mean 'topicFilter'\?/);
    await expect(
      startReceiving({ url, outDir, count: 1 } as Parameters<typeof startReceiving>[0]),
    ).rejects.toThrow(/^startReceiving: unknown option 'count'/);
    const none = (async function* () {})();
    await expect(
      sendFeed(none, { url, topic: 'a', superseed: false } as Parameters<typeof sendFeed>[1]),
    ).rejects.toThrow(/^sendFeed: unknown option 'superseed'; did you mean 'supersede'\?/);
  });

  it('an option set to undefined is no mistake (spreading partial options is common)', async () => {
    const options = { url, topic: 'cam/1', chunkSize: undefined, timeoutMs: 500 } as Parameters<
      typeof sendImages
    >[1];
    await expect(sendImages([join(SAMPLES, 'test-card.jpg')], options)).rejects.toMatchObject({
      code: 'broker_unreachable',
    });
  });
});
