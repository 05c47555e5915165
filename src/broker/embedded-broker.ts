import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { UsageError } from '../errors.js';

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** TCP port it listens on. */
  port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  url: string;
  /** With `wsPort`: the port of the MQTT-over-WebSocket listener, and its URL `ws://127.0.0.1:<port>`. */
  wsPort?: number | undefined;
  wsUrl?: string | undefined;
  /** Closes the clients, then the broker, then the server (aedes issue #640). */
  close(): Promise<void>;
}

/**
 * Starts an aedes MQTT 3.1.1 broker on `host:port` (port 0: a free port), for trying mqimg without installing a
 * broker, and with `wsPort` an MQTT-over-WebSocket listener on `host:wsPort` too (any path; browsers and the
 * display page connect there). aedes keeps messages in memory only.
 */
export async function startEmbeddedBroker(
  options: { port?: number; host?: string; wsPort?: number | undefined } = {},
): Promise<EmbeddedBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  server.listen(port, host);
  try {
    await once(server, 'listening'); // rejects with the 'error' instead, e.g. EADDRINUSE
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw listenError(error, host, port);
  }
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  let ws: WebSocketListener | undefined;
  if (options.wsPort !== undefined) {
    try {
      ws = await listenWebSocket(broker.handle, host, options.wsPort);
    } catch (error) {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw listenError(error, host, options.wsPort, '--ws-port');
    }
  }
  return {
    port: bound,
    url: `mqtt://${host}:${bound}`,
    wsPort: ws?.port,
    wsUrl: ws ? `ws://${host}:${ws.port}` : undefined,
    async close() {
      for (const socket of sockets) socket.destroy();
      await ws?.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A WebSocket listener feeding the broker. */
interface WebSocketListener {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves MQTT over WebSocket on `host:port` (0: a free port): each connection's message stream
 * (`createWebSocketStream`) goes to aedes like a TCP socket. Accepts the `mqtt` subprotocol browsers ask for.
 */
async function listenWebSocket(
  handle: (stream: Duplex) => unknown,
  host: string,
  port: number,
): Promise<WebSocketListener> {
  const { WebSocketServer, createWebSocketStream } = await import('ws');
  const http = createHttpServer((_request, response) => {
    response
      .writeHead(426, { 'content-type': 'text/plain' })
      .end('MQTT over WebSocket: connect with ws://\n');
  });
  const wss = new WebSocketServer({
    server: http,
    handleProtocols: (protocols) =>
      protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false,
  });
  wss.on('connection', (socket) => {
    const stream = createWebSocketStream(socket);
    stream.on('error', () => socket.terminate());
    handle(stream);
  });
  // The server's errors are re-emitted by the WebSocketServer: a taken port rejects `once` below instead.
  wss.on('error', () => {});
  http.listen(port, host);
  try {
    await once(http, 'listening');
  } catch (error) {
    wss.close();
    throw error;
  }
  const address = http.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * A clear UsageError (exit 2: the command line asked for something this machine cannot give) for a port that is
 * taken or not allowed, or an address that is not this machine's; anything else is passed on.
 */
function listenError(error: unknown, host: string, port: number, flag = '--port'): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new UsageError(
      `port ${port} on ${host} is already in use, perhaps by another MQTT broker such as Mosquitto: use that broker (mqimg needs none of its own), or pick another port with ${flag}`,
    );
  if (code === 'EACCES')
    return new UsageError(
      `not allowed to listen on port ${port} (ports below 1024 need root): pick another with ${flag}`,
    );
  if (code === 'EADDRNOTAVAIL')
    return new UsageError(`${host} is not an address of this machine: pass one with --host`);
  return error;
}
