import { UsageError } from '../../errors.js';

/** URL schemes mqimg connects with: MQTT over TCP, over TLS, over WebSocket and over secure WebSocket. */
export const BROKER_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;

/** Default port of each scheme when a URL names none: 1883, 8883, 80 and 443 (mqtt.js's own defaults). */
const DEFAULT_PORTS: Record<(typeof BROKER_SCHEMES)[number], number> = {
  mqtt: 1883,
  mqtts: 8883,
  ws: 80,
  wss: 443,
};

/**
 * The broker URL as mqtt.js wants it, from what people type: `localhost` and `broker.lan:1884` (mosquitto_pub's
 * `-h`/`-p` habits) become `mqtt://localhost:1883` and `mqtt://broker.lan:1884`; `[::1]:1883` works too;
 * `mqtt://`, `mqtts://`, `ws://` and `wss://` URLs are kept. Any other scheme (`http://`, `tcp://`), a port out of
 * range, or a path on an mqtt:// or mqtts:// URL (where a topic would be silently ignored) is a UsageError.
 */
export function normalizeBrokerUrl(input: string): string {
  const text = input.trim();
  if (text.length === 0) throw new UsageError('--url is empty: give a host, host:port or mqtt://host:port');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (text.includes('/') || /\s/.test(text))
      throw new UsageError(`--url ${input}: expected a host, host:port or a URL such as mqtt://host:1883`);
    return checked(`mqtt://${/:\d+$/.test(text) ? text : `${text}:1883`}`, input);
  }
  if (!(BROKER_SCHEMES as readonly string[]).includes(scheme))
    throw new UsageError(
      `--url ${input}: mqimg speaks MQTT, not ${scheme}://; use mqtt://, mqtts:// (TLS), ws:// or wss:// (WebSocket)`,
    );
  return checked(`${scheme}${text.slice(scheme.length)}`, input);
}

/** Parses `url`, refusing what mqtt.js would misread; returns it unchanged. */
function checked(url: string, input: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url ${input}: not a valid host or URL`);
  }
  if (parsed.hostname.length === 0) throw new UsageError(`--url ${input}: names no host`);
  const scheme = parsed.protocol.slice(0, -1) as (typeof BROKER_SCHEMES)[number];
  if ((scheme === 'mqtt' || scheme === 'mqtts') && parsed.pathname.length > 1)
    throw new UsageError(`--url ${input}: an ${scheme}:// URL has no path; give the topic with --topic`);
  return url;
}

/**
 * `-h HOST` and `-p PORT` (mosquitto_pub and MQTTX habits) applied to `url`: the host and/or port replace the
 * URL's. Returns `url` itself when neither is given.
 */
export function withHostAndPort(url: string, host: string | undefined, port: number | undefined): string {
  if (host === undefined && port === undefined) return url;
  const parsed = new URL(url);
  if (host !== undefined) parsed.hostname = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (port !== undefined) parsed.port = String(port);
  else if (parsed.port === '') parsed.port = String(DEFAULT_PORTS[parsed.protocol.slice(0, -1) as 'mqtt']);
  return parsed.toString().replace(/\/$/, '');
}
