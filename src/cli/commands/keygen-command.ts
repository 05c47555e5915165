import { Command } from 'commander';
import type { RunContext } from '../context.js';

interface KeygenFlags {
  secret?: boolean;
}

/** `mqimg keygen NAME` (signing key pair) and `mqimg keygen --secret FILE` (shared encryption secret). */
export function keygenCommand(context: RunContext): Command {
  return new Command('keygen')
    .description(
      'make an Ed25519 key pair for signed transfers (NAME.key, NAME.pub), or with --secret a shared secret for encrypted ones',
    )
    .argument('<name>', 'NAME for NAME.key and NAME.pub; with --secret, the file to write')
    .option('--secret', 'write a 32-byte shared secret for --encrypt instead of a key pair')
    .action(async (name: string, flags: KeygenFlags) => {
      const { writeSecret, writeSigningKeyPair } = await import('../../platform/key-files.js');
      if (flags.secret) {
        const { kid } = await writeSecret(name);
        context.output.result(
          `wrote ${name} (secret ${kid}): copy it, privately, to the sender and every receiver, and pass it to --encrypt`,
        );
        return;
      }
      const { keyPath, pubPath, kid } = await writeSigningKeyPair(name);
      context.output.result(
        `wrote ${keyPath} (private: keep it on the sender, for send --sign) and ${pubPath} (key ${kid}: give it to receivers, for receive --trust)`,
      );
    });
}
