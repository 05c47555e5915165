import { type CliResult, runCli, startReceiver } from './cli.js';
import { jsonLines, tempDir } from './files.js';

/**
 * Arguments of `mqimg send` for `files` on `topic`, as they are (`--format original`, so the saved bytes must equal
 * the source's) in chunks of `chunkSize`, with `--json` events.
 */
export const sendAsIs = (files: string | string[], topic: string, chunkSize: string): string[] => [
  ...(Array.isArray(files) ? files : [files]),
  '--topic',
  topic,
  '--format',
  'original',
  '--chunk-size',
  chunkSize,
  '--json',
];

export interface TransferSpec {
  /** Arguments of `mqimg receive` after `--out <out>` (it gets `--once`, or `--count N` for N senders). */
  rx: string[];
  /** Arguments of `mqimg send` (files, `--topic`, options); several lists run as several senders at once. */
  tx: string[] | string[][];
  /** Appended to both commands as `--url <url>`. */
  url?: string;
  /** The receiver's folder; default a new temporary one. */
  out?: string;
  /** Environment of both commands (MQIMG_* variables are otherwise cleared). */
  env?: Record<string, string>;
}

export interface TransferResult {
  /** The receiver's folder. */
  out: string;
  /** The receiver's result, and its `--json` events if it printed any. */
  rx: CliResult;
  received: Record<string, unknown>[];
  /** The (first) sender's result, and its `--json` events if it printed any. */
  tx: CliResult;
  sent: Record<string, unknown>[];
  /** Every sender's result, in the order of `spec.tx`. */
  txs: CliResult[];
  /** The receiver's first `completed` event (`{}` without `--json`). */
  completed: Record<string, unknown>;
  /** The sender's `delivered` event (`{}` without `--json`). */
  delivered: Record<string, unknown>;
}

/**
 * One end-to-end transfer with the real CLI: starts `mqimg receive --out <out>`, waits until it is subscribed,
 * runs the sender(s) to completion, then collects the receiver's result. If a sender fails, the receiver (which
 * would wait for its file) is interrupted, so the caller gets both results to assert on instead of a hang.
 */
export async function transfer(spec: TransferSpec): Promise<TransferResult> {
  const out = spec.out ?? tempDir('mqimg-transfer-');
  const url = spec.url !== undefined ? ['--url', spec.url] : [];
  const senders = (spec.tx.length > 0 && Array.isArray(spec.tx[0]) ? spec.tx : [spec.tx]) as string[][];
  const count = senders.length === 1 ? ['--once'] : ['--count', String(senders.length)];
  const receiver = await startReceiver(['--out', out, ...count, ...spec.rx, ...url], spec.env);
  const txs = await Promise.all(senders.map((args) => runCli(['send', ...args, ...url], spec.env)));
  if (txs.some((r) => r.code !== 0)) receiver.child.kill('SIGINT');
  const rx = await receiver.done;
  const [tx] = txs as [CliResult];
  const received = jsonLines(rx.stdout);
  const sent = jsonLines(tx.stdout);
  return {
    out,
    rx,
    received,
    tx,
    sent,
    txs,
    completed: received.find((e) => e.event === 'completed') ?? {},
    delivered: sent.find((e) => e.event === 'delivered') ?? {},
  };
}
