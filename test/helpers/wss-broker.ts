import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

/**
 * An aedes broker behind a TLS WebSocket listener (wss://), with the given server certificate. For the wss://
 * tests: the Debian Mosquitto here cannot open websockets listeners ("Unable to start any listening sockets").
 */
export async function startWssBroker(certFile: string, keyFile: string) {
  const broker = await Aedes.createBroker();
  const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
  const wss = new WebSocketServer({ server, handleProtocols: () => 'mqtt' });
  wss.on('connection', (socket) => {
    // biome-ignore lint/suspicious/noExplicitAny: aedes accepts any duplex stream; its types name net.Socket
    broker.handle(createWebSocketStream(socket) as any);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
