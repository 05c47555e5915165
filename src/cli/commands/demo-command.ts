import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ExitCode, MqimgError } from '../../errors.js';
import type { RunContext } from '../context.js';
import { formatBytes, formatSeconds, plural } from '../output/output.js';
import { CLI_GC_EVERY_BYTES } from './receive-command.js';

/**
 * The folder of the images shipped with mqimg, sent by `mqimg demo`: two folders up from dist/bin/ (the bundle),
 * three from src/cli/commands/ or dist/cli/commands/.
 */
const samplesDir = () => {
  const bundled = fileURLToPath(new URL('../../samples/', import.meta.url));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL('../../../samples/', import.meta.url));
};

/** `mqimg demo`: embedded broker + receiver + sender in one process, every sample checked byte for byte. */
export function demoCommand(context: RunContext): Command {
  return new Command('demo')
    .description(
      'send the bundled sample images through an embedded broker to a receiver, and verify each byte',
    )
    .option('-o, --out <dir>', 'folder for the received files (default: a new temporary folder)')
    .action(async (flags: { out?: string }) => {
      const { mkdtemp, readdir, readFile, rm } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const { startEmbeddedBroker } = await import('../../broker/embedded-broker.js');
      const { startReceiving } = await import('../../api/receive-images.js');
      const { sendImages } = await import('../../api/send-images.js');
      // Without --out the files go to a temporary folder, removed at the end: the demo leaves nothing behind.
      const temporary = flags.out === undefined;
      const out = flags.out ?? (await mkdtemp(join(tmpdir(), 'mqimg-demo-')));
      const samplesDirectory = samplesDir();
      const samples = (await readdir(samplesDirectory))
        .filter((f) => /\.(jpe?g|png|webp|avif|gif|tiff?)$/i.test(f))
        .sort();
      const { output } = context;
      const broker = await startEmbeddedBroker();
      output.info(`embedded broker on ${broker.url}; receiving into ${out}`);
      const saved = new Map<string, string>();
      const receiving = await startReceiving({
        url: broker.url,
        outDir: out,
        gcEveryBytes: CLI_GC_EVERY_BYTES,
        onEvent: (event) => {
          if (event.event === 'completed') saved.set(event.id, event.path);
          if (event.event === 'failed') output.info(`receiver: ${event.code}: ${event.message}`);
        },
      });
      let verified = 0;
      const verifications: Promise<void>[] = [];
      try {
        await sendImages(
          samples.map((f) => join(samplesDirectory, f)),
          {
            url: broker.url,
            topic: 'mqimg-demo/display',
            signal: context.signal,
            timeoutMs: 10_000,
            onDelivered(result, image) {
              const m = result.manifest;
              const path = saved.get(m.id);
              const line = `${m.name.padEnd(24)} ${formatBytes(m.size).padStart(16)} ${plural(m.chunks, 'chunk').padStart(10)}  ${formatSeconds(result.durationMs)}`;
              verifications.push(
                (async () => {
                  const ok = path !== undefined && (await readFile(path)).equals(image.bytes);
                  if (ok) verified++;
                  output.result(
                    `${line}  ${ok ? (temporary ? 'verified' : `verified -> ${path}`) : 'NOT IDENTICAL'}`,
                  );
                })(),
              );
            },
          },
        );
        await Promise.all(verifications);
      } finally {
        await receiving.stop();
        await broker.close();
        if (temporary) await rm(out, { recursive: true, force: true });
      }
      output.result(`${verified} of ${samples.length} samples sent, received and verified byte for byte`);
      if (temporary) output.info(`removed ${out}; pass --out DIR to keep the received files`);
      if (verified !== samples.length || samples.length === 0) {
        throw new MqimgError(
          'demo_failed',
          `only ${verified} of ${samples.length} samples arrived identical`,
          ExitCode.transferFailed,
        );
      }
    });
}
