/**
 * mqimg's error family. Every error a user can meet has a stable `code` (for `--json` output and scripts) and an
 * `exitCode` (what the `mqimg` binary exits with). Messages say what was expected, what was found, and what to do.
 */

/** Exit codes of the `mqimg` binary; README.md documents them in one table. */
export const ExitCode = {
  ok: 0,
  /** An unexpected internal error: a bug, please report it. */
  internal: 1,
  /** Bad command line: unknown option, invalid value, invalid topic. */
  usage: 2,
  /** The input file is missing, unreadable, or not an image mqimg can decode. */
  input: 3,
  /**
   * The broker could not be reached, the connection was lost and not recovered, or the broker kept refusing a
   * subscription or a publish (for a reason other than "not authorised").
   */
  connection: 4,
  /** The broker refused the credentials or the client is not authorised. */
  auth: 5,
  /** No receiver confirmed before `--timeout`, or a transfer stopped making progress. */
  timeout: 6,
  /** Every receiver that answered reported the transfer failed (for example a checksum mismatch, or unsigned). */
  transferFailed: 7,
  /** TLS failed: the broker's certificate is not trusted or names another host, or it refused ours. */
  tls: 8,
  /** Interrupted by SIGINT or SIGTERM. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: `code` is stable and machine-readable; `details` holds typed context (ids, paths, sizes). */
export class MqimgError extends Error {
  override readonly name: string = 'MqimgError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A command-line or API argument is invalid. */
export class UsageError extends MqimgError {
  override readonly name = 'UsageError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('usage', message, ExitCode.usage, details);
  }
}

/** The sender's input cannot be used. `code` tells which way: input_not_found, input_not_image, ... */
export class InputError extends MqimgError {
  override readonly name = 'InputError';
  constructor(code: string, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, ExitCode.input, details, { cause });
  }
}

/** The broker connection failed, or the broker refused something (README.md's table says each code's exit). */
export class ConnectionError extends MqimgError {
  override readonly name = 'ConnectionError';
  constructor(
    code:
      | 'broker_unreachable'
      | 'auth_refused'
      | 'connection_lost'
      | 'tls_failed'
      | 'subscription_refused'
      | 'publish_refused',
    message: string,
    cause?: unknown,
  ) {
    const exitCode =
      code === 'auth_refused' ? ExitCode.auth : code === 'tls_failed' ? ExitCode.tls : ExitCode.connection;
    super(code, message, exitCode, {}, { cause });
  }
}

/** A transfer did not complete: nobody confirmed, progress stopped, or receivers reported failure. */
export class TransferError extends MqimgError {
  override readonly name = 'TransferError';
  constructor(
    code: 'no_receiver' | 'stalled' | 'receiver_failed',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, code === 'receiver_failed' ? ExitCode.transferFailed : ExitCode.timeout, details);
  }
}

/** The message of a thrown value: an Error's `message`, else the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
