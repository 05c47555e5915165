import { fromBase64 } from '../protocol/wire/bytes.js';
import { filterProblem } from '../protocol/wire/topics.js';

/** How the image fills the screen: all of it visible (`contain`, bars) or the screen filled (`cover`, cropped). */
export type Fit = 'contain' | 'cover';

/** What the page's server (`mqimg display`) writes into the page, in `<script id="mqimg-config">`. */
export interface EmbeddedConfig {
  /**
   * The broker's WebSocket URL, or a path on the page's own server (`/mqtt`): the server then carries the page's
   * MQTT to the broker itself (`mqimg display --url mqtt://...`), and the broker's credentials stay there.
   */
  url?: string;
  topic?: string;
  fit?: Fit;
  /** Trusted Ed25519 public keys: key id -> raw 32-byte key in base64. */
  trust?: Record<string, string>;
  /** Shared secret in base64 (`--encrypt`): only ever in the page the local server serves, never in a URL. */
  secret?: string;
  /** `--max-age` for signed transfers, in milliseconds. */
  maxAgeMs?: number;
  username?: string;
  password?: string;
}

/** The page's settings: the embedded ones, overridden by URL parameters (a page hosted anywhere). */
export interface PageConfig {
  url: string;
  topic: string;
  fit: Fit;
  debug: boolean;
  trust: Map<string, Uint8Array> | undefined;
  secret: Uint8Array | undefined;
  maxAgeMs: number | undefined;
  username: string | undefined;
  password: string | undefined;
}

/**
 * Reads the settings from `embedded` (the JSON `mqimg display` serves in the page) and `search` (the URL's query
 * string: `url`, `topic`, `fit`, `debug`). Returns a problem to show instead when the broker URL or topic is
 * missing or wrong. A secret is never read from the URL: URLs end up in histories, logs and Referer headers.
 */
export function readConfig(
  search: string,
  embedded: EmbeddedConfig,
  /** The page's own origin (`location.origin`), to which a path `url` is relative. */
  origin = 'http://localhost',
): PageConfig | { problem: string } {
  const params = new URLSearchParams(search);
  if (params.has('secret'))
    return {
      problem:
        'the encryption secret must not be given in the URL; serve the page with mqimg display --encrypt FILE',
    };
  const configured = embedded.url?.startsWith('/') ? sameOriginWebSocket(origin, embedded.url) : embedded.url;
  const url = params.get('url') ?? configured;
  const topic = params.get('topic') ?? embedded.topic;
  if (!url || !/^wss?:\/\//.test(url))
    return {
      problem: `give the broker's WebSocket URL, e.g. ?url=ws://192.168.1.10:9001&topic=cam/1 (got ${url ?? 'none'})`,
    };
  if (!topic) return { problem: 'give the topic to show, e.g. ?topic=cam/1' };
  const topicProblem = filterProblem(topic);
  if (topicProblem) return { problem: `invalid topic: ${topicProblem}` };
  const fitParam = params.get('fit') ?? embedded.fit ?? 'contain';
  if (fitParam !== 'contain' && fitParam !== 'cover')
    return { problem: `fit must be contain or cover, not ${fitParam}` };
  const decode = (text: string, what: string) => {
    const bytes = fromBase64(text);
    if (!bytes) throw new Error(`${what} is not base64`);
    return bytes;
  };
  try {
    const trust = embedded.trust
      ? new Map(Object.entries(embedded.trust).map(([kid, key]) => [kid, decode(key, `trusted key ${kid}`)]))
      : undefined;
    return {
      url,
      topic,
      fit: fitParam,
      debug: params.has('debug'),
      trust,
      secret: embedded.secret === undefined ? undefined : decode(embedded.secret, 'the secret'),
      maxAgeMs: embedded.maxAgeMs,
      // The configured credentials go only to the configured broker: a page opened with ?url=ws://elsewhere must
      // not hand them to whoever runs that broker.
      ...credentialsFor(url, configured === undefined ? embedded : { ...embedded, url: configured }, params),
    };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** The user name and password a page sends to the broker at `url`: the embedded ones only if `url` is the embedded one. */
function credentialsFor(
  url: string,
  embedded: EmbeddedConfig,
  params: URLSearchParams,
): { username: string | undefined; password: string | undefined } {
  const configured = embedded.url !== undefined && sameBroker(url, embedded.url);
  return {
    username: params.get('username') ?? (configured ? embedded.username : undefined),
    password: configured ? embedded.password : undefined,
  };
}

/** True when two broker URLs name the same scheme, host and port (a path or a trailing slash aside). */
function sameBroker(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host === y.host;
  } catch {
    return false;
  }
}

/** The WebSocket URL of `path` on the page's own server: ws:// for an http page, wss:// for an https one. */
function sameOriginWebSocket(origin: string, path: string): string {
  const page = new URL(origin);
  return `${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}${path}`;
}
