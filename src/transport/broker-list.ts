import type { MqttClient } from 'mqtt';
import { UsageError } from '../errors.js';

/** Default port of each scheme when a URL names none (mqtt.js's own defaults). */
const DEFAULT_PORTS: Record<string, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/**
 * Why `urls` cannot be a list of brokers to move between, or undefined when it can: none given, an empty one, or
 * schemes that differ (a fail-over from mqtts:// to mqtt:// would send the password in the clear, and the TLS
 * options apply to every broker alike).
 */
export function brokerListProblem(urls: readonly string[]): string | undefined {
  if (urls.length === 0) return 'no broker URL given';
  if (urls.some((u) => u.trim().length === 0))
    return 'an empty broker URL in the list (two commas, or a comma at an end?)';
  const schemes = new Set(urls.map((u) => /^([a-z][a-z0-9+.-]*):/i.exec(u)?.[1]?.toLowerCase() ?? ''));
  if (schemes.size > 1)
    return `the brokers mix ${[...schemes].map((s) => `${s}://`).join(' and ')}: give every --url the same scheme (a fail-over must not leave TLS, and the TLS options apply to all of them)`;
  const unique = new Set(urls);
  if (unique.size < urls.length) return 'a broker URL is given twice';
  return undefined;
}

/** Where a client is, and where it tries next, among brokers given in order. */
export class BrokerList {
  private connectedIndex = 0;
  private tryingIndex = 0;

  constructor(
    /** The brokers, in the order given. */
    readonly urls: readonly string[],
  ) {}

  /** The broker the client is connected to (or was, while it reconnects). */
  get current(): string {
    return this.urls[this.connectedIndex] ?? '';
  }

  /** The broker the client is trying, or connected to. */
  get trying(): string {
    return this.urls[this.tryingIndex] ?? '';
  }

  /** The first connection went to the broker at `index`. */
  connectedAt(index: number): void {
    this.connectedIndex = index;
    this.tryingIndex = index;
  }

  /** Moves the next attempt on to the next broker, round robin; returns its URL. */
  next(): string {
    this.tryingIndex = (this.tryingIndex + 1) % this.urls.length;
    return this.trying;
  }

  /** The attempt succeeded: where the client moved from and to, or undefined when it is the same broker. */
  connected(): { from: string; to: string } | undefined {
    if (this.tryingIndex === this.connectedIndex) return undefined;
    const from = this.current;
    this.connectedIndex = this.tryingIndex;
    return { from, to: this.current };
  }
}

/** The brokers of `url` (one, or a list, checked with `brokerListProblem`: a UsageError when it is not usable). */
export function brokerList(url: string | readonly string[]): BrokerList {
  const urls = typeof url === 'string' ? [url] : [...url];
  const problem = brokerListProblem(urls);
  if (problem) throw new UsageError(`--url: ${problem}`);
  return new BrokerList(urls);
}

/**
 * Points `client`'s next connection attempt at `url`. mqtt.js builds each connection's socket from
 * `client.options` (its `servers` option would too, but keeps the first host's TLS server name for every host, so
 * that a second broker's certificate is checked against the first one's name).
 */
export function pointClientAt(client: MqttClient, url: string): void {
  const parsed = new URL(url);
  const scheme = parsed.protocol.slice(0, -1);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const options = client.options as Record<string, unknown>;
  options.protocol = scheme;
  options.host = host;
  options.hostname = scheme.startsWith('ws') ? parsed.hostname : host; // the ws URL keeps [::1]'s brackets
  options.port = Number(parsed.port || DEFAULT_PORTS[scheme] || 1883);
  options.servername = undefined; // mqtt.js sets it again from the host for TLS
  if (scheme === 'ws' || scheme === 'wss') options.path = `${parsed.pathname}${parsed.search}`;
}
