import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { EmbeddedConfig } from '../../display/page-config.js';
import { UsageError } from '../../errors.js';

/** Files of the built page (scripts/build-page.mjs), with their media types. */
const PAGE_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'mqimg-display.js': 'text/javascript; charset=utf-8',
  'mqimg-display.js.map': 'application/json',
};

/**
 * Where the built page is: dist/page beside dist/bin (the bundle), two folders up from dist/cli/commands (tsc's
 * output), or dist/page of the checkout when run from src/cli/commands.
 */
export function pageDir(): string {
  for (const relative of ['../page/', '../../page/', '../../../dist/page/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('the display page is not built (dist/page/index.html is missing): run npm run build');
}

/**
 * The page's HTML with `config` written into its `<script id="mqimg-config" type="application/json">`. `<` is
 * escaped so that no value (a topic, a user name) can close the script element.
 */
export function injectConfig(html: string, config: EmbeddedConfig): string {
  const json = JSON.stringify(config).replaceAll('<', '\\u003c');
  const marker = /<script id="mqimg-config" type="application\/json">[^<]*<\/script>/;
  if (!marker.test(html)) throw new Error('the page template lacks its mqimg-config script element');
  return html.replace(marker, () => `<script id="mqimg-config" type="application/json">${json}</script>`);
}

/** How the server carries the page's MQTT itself (`--url mqtt://...`): see broker/ws-relay.ts. */
export interface PageRelay {
  /** Opens a connection to the broker. */
  connect: () => Duplex;
  username?: string | undefined;
  password?: string | undefined;
}

/** The path on the page's server where a relayed page connects. */
export const RELAY_PATH = '/mqtt';

/** A running page server. */
export interface DisplayServer {
  port: number;
  /** Addresses to open the page at: this machine first, then its network addresses. */
  addresses: string[];
  close(): Promise<void>;
}

/**
 * Serves the display page on `host:port` with node:http: `/` is the page with `config` in it (never cached: it may
 * hold a secret), `/mqimg-display.js` the bundle. Anything else is 404. GET and HEAD only. Only requests whose
 * `Host` is one of this server's own names and addresses (or `allowHosts`) are served; others get 421, so that a
 * web page elsewhere cannot reach it through DNS rebinding. With `relay`, WebSocket connections on RELAY_PATH are
 * carried to the broker.
 */
export async function serveDisplayPage(
  config: EmbeddedConfig,
  host: string,
  port: number,
  options: { relay?: PageRelay | undefined; allowHosts?: readonly string[] | undefined } = {},
): Promise<DisplayServer> {
  const dir = pageDir();
  const html = injectConfig(await readFile(`${dir}index.html`, 'utf8'), config);
  let allowed: (request: IncomingMessage) => boolean = () => false;
  const server: Server = createServer((request, response) => {
    if (!allowed(request)) {
      response
        .writeHead(421, { 'content-type': 'text/plain' })
        .end('mqimg display: not served under this host name (start it with --allow-host NAME to add one)\n');
      return;
    }
    const path = new URL(request.url ?? '/', 'http://page').pathname.slice(1) || 'index.html';
    const type = PAGE_FILES[path];
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !type) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const headers = {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    };
    const body = path === 'index.html' ? Promise.resolve(html) : readFile(`${dir}${path}`);
    body.then(
      (content) => response.writeHead(200, headers).end(request.method === 'HEAD' ? undefined : content),
      () => response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'),
    );
  });
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(`port ${port} on ${host} is already in use: pick another with --port`);
    if (code === 'EACCES')
      throw new UsageError(
        `not allowed to listen on port ${port} (ports below 1024 need root): pick another with --port`,
      );
    if (code === 'EADDRNOTAVAIL')
      throw new UsageError(`${host} is not an address of this machine: check --host`);
    throw error;
  }
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  allowed = hostCheck(host, bound, options.allowHosts ?? []);
  let closeRelay: (() => Promise<void>) | undefined;
  if (options.relay) {
    const { attachWsRelay } = await import('../../broker/ws-relay.js');
    const { connect, username, password } = options.relay;
    closeRelay = await attachWsRelay({
      server,
      path: RELAY_PATH,
      connect,
      credentials: { username, password },
      allow: allowed,
    });
  }
  return {
    port: bound,
    addresses: pageAddresses(host, bound),
    async close() {
      await closeRelay?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** http:// addresses of a server on `host:port`: for 0.0.0.0 or ::, 127.0.0.1 and every IPv4 network address. */
function pageAddresses(host: string, port: number): string[] {
  if (host !== '0.0.0.0' && host !== '::')
    return [`http://${host.includes(':') ? `[${host}]` : host}:${port}/`];
  const lan = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => `http://${a?.address}:${port}/`);
  return [`http://127.0.0.1:${port}/`, ...lan];
}

/**
 * Whether a request's `Host` header names this server: localhost, 127.0.0.1, ::1, this machine's name (and
 * NAME.local), each of its network addresses, the address it listens on, and `extra`, each with the port (or
 * without it on port 80).
 */
function hostCheck(
  host: string,
  port: number,
  extra: readonly string[],
): (request: IncomingMessage) => boolean {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', hostname(), `${hostname()}.local`, ...extra]);
  if (host !== '0.0.0.0' && host !== '::') names.add(host.includes(':') ? `[${host}]` : host);
  for (const a of Object.values(networkInterfaces()).flat())
    if (a) names.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
  const accepted = new Set<string>();
  for (const name of names) {
    accepted.add(`${name.toLowerCase()}:${port}`);
    if (port === 80) accepted.add(name.toLowerCase());
  }
  return (request) => accepted.has((request.headers.host ?? '').toLowerCase());
}
