import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { UsageError } from '../errors.js';

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** TCP port it listens on. */
  port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  url: string;
  /** Closes the clients, then the broker, then the server (aedes issue #640). */
  close(): Promise<void>;
}

/**
 * Starts an aedes MQTT 3.1.1 broker on `host:port` (port 0: a free port), for trying mqimg without installing a
 * broker. aedes keeps messages in memory only.
 */
export async function startEmbeddedBroker(
  options: { port?: number; host?: string } = {},
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
  return {
    port: bound,
    url: `mqtt://${host}:${bound}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A clear UsageError (exit 2: the command line asked for something this machine cannot give) for a port that is
 * taken or not allowed, or an address that is not this machine's; anything else is passed on.
 */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new UsageError(
      `port ${port} on ${host} is already in use, perhaps by another MQTT broker such as Mosquitto: use that broker (mqimg needs none of its own), or pick another port with --port`,
    );
  if (code === 'EACCES')
    return new UsageError(
      `not allowed to listen on port ${port} (ports below 1024 need root): pick another with --port`,
    );
  if (code === 'EADDRNOTAVAIL')
    return new UsageError(`${host} is not an address of this machine: pass one with --host`);
  return error;
}
