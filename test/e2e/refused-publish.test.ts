import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, SAMPLES, startReceiver } from '../helpers/cli.js';
import { tempDir as makeTempDir, sha256, visibleFiles } from '../helpers/files.js';
import {
  DYNSEC_PLUGIN,
  type MosquittoProcess,
  mosquittoRequired,
  startMosquittoWithAcls,
} from '../helpers/mosquitto.js';

const tempDir = () => makeTempDir('mqimg-refused-publish-');

describe.skipIf(!mosquittoRequired() || DYNSEC_PLUGIN === undefined)(
  'a receiver the broker does not let answer',
  () => {
    let broker: MosquittoProcess;
    beforeAll(async () => {
      // Anonymous clients may not publish statuses (`T/mqimg/ID/r`) of transfers under `cam/`.
      broker = await startMosquittoWithAcls([
        { acltype: 'publishClientSend', topic: 'cam/+/mqimg/+/r', allow: false },
      ]);
      return () => broker.stop();
    });

    it('says so and exits 5 (auth_refused), instead of receiving unheard while the sender reports no_receiver', async () => {
      const out = tempDir();
      const rx = await startReceiver(['--out', out, '--topic', 'cam/door', '--url', broker.url]);
      const image = join(SAMPLES, 'test-card.jpg');
      const tx = await runCli([
        'send',
        image,
        '--format',
        'original',
        '--topic',
        'cam/door',
        '--url',
        broker.url,
        '--timeout',
        '5',
      ]);
      const result = await rx.done;
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).not.toMatch(/unexpected error/);
      expect(result.stderr.split('\n').filter((l) => l.startsWith('mqimg: '))).toEqual([
        expect.stringMatching(
          /^mqimg: the broker at mqtt:\/\/127\.0\.0\.1:\d+ refused to let this client publish on cam\/door\/mqimg\/[0-9a-f]+\/r \(not authorised\): check the broker's ACL for this user$/,
        ),
      ]);
      // The sender heard no receiver: exit 6, not a success nobody proved.
      expect(tx.code, tx.stderr).toBe(6);
      // Nothing half-written where a viewer looks: the image is there whole (it arrived before the receiver had to
      // answer; it was verified and saved), or not at all.
      for (const name of visibleFiles(out))
        expect(sha256(readFileSync(join(out, name)))).toBe(sha256(readFileSync(image)));
    });
  },
);
