import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
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

/** A running page server. */
export interface DisplayServer {
  port: number;
  /** Addresses to open the page at: this machine first, then its network addresses. */
  addresses: string[];
  close(): Promise<void>;
}

/**
 * Serves the display page on `host:port` with node:http: `/` is the page with `config` in it (never cached: it may
 * hold a secret), `/mqimg-display.js` the bundle. Anything else is 404. GET and HEAD only.
 */
export async function serveDisplayPage(
  config: EmbeddedConfig,
  host: string,
  port: number,
): Promise<DisplayServer> {
  const dir = pageDir();
  const html = injectConfig(await readFile(`${dir}index.html`, 'utf8'), config);
  const server: Server = createServer((request, response) => {
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
  return {
    port: bound,
    addresses: pageAddresses(host, bound),
    async close() {
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
