import type { Debugger } from 'debug';

/**
 * One area's debug lines: called like a logger of the `debug` package (printf-style: `%s`, `%d`, `%o`), and doing
 * nothing until `enableDebug` turned debug output on. The `debug` package itself is loaded only then, so that a
 * command without debug output does not pay for it at start.
 */
export interface DebugLine {
  (formatter: unknown, ...args: unknown[]): void;
  /** Whether this area's lines are printed. */
  readonly enabled: boolean;
}

const AREAS = ['cli', 'send', 'receive', 'exit'] as const;
type Area = (typeof AREAS)[number];
/** The `debug` package's loggers, once `enableDebug` loaded it. */
let loggers: Record<Area, Debugger> | undefined;

function debugLine(area: Area): DebugLine {
  const line = (formatter: unknown, ...args: unknown[]) => loggers?.[area](formatter, ...args);
  return Object.defineProperty(line, 'enabled', { get: () => loggers?.[area].enabled ?? false }) as DebugLine;
}

/**
 * mqimg's debug output: lines on stderr under `mqimg:<area>` namespaces, off unless `-v`/`--verbose`,
 * `MQIMG_DEBUG=1` or `DEBUG=mqimg*` turns them on.
 */
export const debugLog: Record<Area, DebugLine> = {
  cli: debugLine('cli'),
  send: debugLine('send'),
  receive: debugLine('receive'),
  exit: debugLine('exit'),
};

/**
 * Turns debug output on: level 1 (`-v`) mqimg's own lines, level 2 (`-vv`) also mqtt.js's packet-level ones
 * (`mqttjs*`). Namespaces already enabled through `DEBUG` stay on. Also sets `MQIMG_DEBUG=1`, which the
 * connection layer reads for its connection, close and reconnection lines. At level 0 it loads the `debug` package
 * only if `DEBUG` is set (which may name mqimg's namespaces), and otherwise does nothing.
 */
export async function enableDebug(level: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (level < 1 && !env.DEBUG) return;
  const { default: createDebug } = await import('debug');
  if (level >= 1) {
    const namespaces = [env.DEBUG, 'mqimg*', level >= 2 ? 'mqttjs*' : undefined];
    createDebug.enable(namespaces.filter((n) => n !== undefined && n.length > 0).join(','));
    env.MQIMG_DEBUG = '1';
  }
  loggers ??= {
    cli: createDebug('mqimg:cli'),
    send: createDebug('mqimg:send'),
    receive: createDebug('mqimg:receive'),
    exit: createDebug('mqimg:exit'),
  };
}

/** The debug level the environment asks for: 1 with `MQIMG_DEBUG=1` (the older switch), else 0. */
export function debugLevelFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  return env.MQIMG_DEBUG === '1' ? 1 : 0;
}
