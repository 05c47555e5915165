import createDebug from 'debug';

/**
 * mqimg's debug output (the `debug` package): lines on stderr under `mqimg:<area>` namespaces, off unless
 * `-v`/`--verbose`, `MQIMG_DEBUG=1` or `DEBUG=mqimg*` turns them on.
 */
export const debugLog = {
  cli: createDebug('mqimg:cli'),
  send: createDebug('mqimg:send'),
  receive: createDebug('mqimg:receive'),
  exit: createDebug('mqimg:exit'),
};

/**
 * Turns debug output on: level 1 (`-v`) mqimg's own lines, level 2 (`-vv`) also mqtt.js's packet-level ones
 * (`mqttjs*`). Namespaces already enabled through `DEBUG` stay on. Also sets `MQIMG_DEBUG=1`, which the
 * connection layer reads for its connection, close and reconnection lines.
 */
export function enableDebug(level: number): void {
  if (level < 1) return;
  const namespaces = [process.env.DEBUG, 'mqimg*', level >= 2 ? 'mqttjs*' : undefined];
  createDebug.enable(namespaces.filter((n) => n !== undefined && n.length > 0).join(','));
  process.env.MQIMG_DEBUG = '1';
}

/** The debug level the environment asks for: 1 with `MQIMG_DEBUG=1` (the older switch), else 0. */
export function debugLevelFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  return env.MQIMG_DEBUG === '1' ? 1 : 0;
}
