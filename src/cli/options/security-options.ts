import type { Command } from 'commander';
import { definedOnly } from '../../protocol/wire/defined.js';
import type { SendSecurity } from '../../session/send/outgoing-transfer.js';

/** The signing and encryption flags of `send` and `relay`. */
export interface SendSecurityFlags {
  sign?: string;
  encrypt?: string;
  recipient?: string[];
}

/** Adds --sign, --encrypt and --recipient to a command that sends. */
export function addSendSecurityOptions(command: Command): Command {
  return command
    .option(
      '--sign <keyfile>',
      'sign every manifest with this Ed25519 private key (from mqimg keygen NAME: NAME.key)',
    )
    .option(
      '--encrypt <secretfile>',
      'encrypt every chunk and the manifest with this shared secret (from mqimg keygen --secret FILE); receivers need the same file',
    )
    .option(
      '--recipient <pubfile>',
      'deliver only to this named receiver (NAME.pub from mqimg keygen NAME, or a folder of .pub files; repeat for more): exit 0 only when every one proved it saved the file, in statuses only its key can seal (receive --identity NAME.key)',
      (value: string, previous: string[] = []) => [...previous, value],
    );
}

/** Loads the key files the flags name (clear UsageErrors when they are missing or wrong). */
export async function loadSendSecurity(flags: SendSecurityFlags): Promise<SendSecurity> {
  if (flags.sign === undefined && flags.encrypt === undefined && flags.recipient === undefined) return {};
  const { loadRecipients, loadSecret, loadSigningKey } = await import('../../platform/key-files.js');
  return definedOnly({
    signWith: flags.sign !== undefined ? await loadSigningKey(flags.sign) : undefined,
    secret: flags.encrypt !== undefined ? await loadSecret(flags.encrypt) : undefined,
    recipients: flags.recipient !== undefined ? await loadRecipients(flags.recipient) : undefined,
  });
}
