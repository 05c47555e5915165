import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

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
  server.listen(options.port ?? 0, host);
  await once(server, 'listening'); // rejects with the 'error' instead, e.g. EADDRINUSE
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    port,
    url: `mqtt://${host}:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
