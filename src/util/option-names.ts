import { UsageError } from '../errors.js';
import { nearestName } from './nearest-name.js';

/**
 * Refuses option names a library function does not know, as a zod strict object would, naming the unknown one and
 * the nearest known one: `sendImages(files, { chunkSize: 4096 })` would otherwise send with the default chunk size
 * without a word. A plain key check rather than zod itself: `sendImages` checks before it connects, and importing
 * zod there would cost every `mqimg send` ~50 ms of start-up (zod is loaded later, while connecting).
 *
 * `known` lists every option of the function, each `true`; declared with `satisfies Record<keyof Options, true>`,
 * the compiler keeps it equal to the options' type.
 */
export function checkOptionNames(
  functionName: string,
  options: object,
  known: Readonly<Record<string, true>>,
): void {
  const unknown = Object.keys(options).filter(
    (key) => !Object.hasOwn(known, key) && (options as Record<string, unknown>)[key] !== undefined,
  );
  const [first] = unknown;
  if (first === undefined) return;
  const near = nearestName(first, Object.keys(known));
  const names = unknown.map((key) => `'${key}'`).join(', ');
  throw new UsageError(
    `${functionName}: unknown option ${names}${near ? `; did you mean '${near}'?` : ''} (README.md, Library, lists the options)`,
    { unknown },
  );
}
