import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** The broker credentials the relay puts into every page's CONNECT, so that they never reach the browser. */
export interface RelayCredentials {
  username?: string | undefined;
  password?: string | undefined;
}

/** What `attachWsRelay` needs. */
export interface WsRelayOptions {
  /** The HTTP server the page is served from: the relay answers WebSocket upgrades on `path` (same origin). */
  server: Server;
  /** The upgrade path, e.g. `/mqtt`. */
  path: string;
  /** Opens a new connection to the broker (TCP or TLS), one per page connection. */
  connect: () => Duplex;
  credentials?: RelayCredentials;
  /** Whether an upgrade request may use the relay (the Host check of the display server); default all. */
  allow?: (request: IncomingMessage) => boolean;
}

/**
 * Carries the page's MQTT to a broker that has no WebSocket listener (Debian's Mosquitto, AWS IoT over 8883...):
 * each WebSocket connection on `path` becomes one TCP or TLS connection to the broker, bytes passed through as
 * they are, except the first packet, the page's CONNECT, whose user name and password are replaced by the server's
 * (`credentials`). Returns a function that closes every relayed connection.
 */
export async function attachWsRelay(options: WsRelayOptions): Promise<() => Promise<void>> {
  const { WebSocketServer, createWebSocketStream } = await import('ws');
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) =>
      protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false,
  });
  options.server.on('upgrade', (request, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://relay').pathname;
    if (path !== options.path || !(options.allow?.(request) ?? true)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const page = createWebSocketStream(ws);
      const broker = options.connect();
      relay(page, broker, options.credentials ?? {});
    });
  });
  return async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

/** Pipes `page` and `broker` into each other, the page's CONNECT rewritten; either side ending ends both. */
function relay(page: Duplex, broker: Duplex, credentials: RelayCredentials): void {
  let pending: Buffer = Buffer.alloc(0);
  let connected = false;
  const end = () => {
    page.destroy();
    broker.destroy();
  };
  page.on('error', end);
  broker.on('error', end);
  page.on('close', end);
  broker.on('close', end);
  broker.on('data', (data: Buffer) => page.write(data));
  page.on('data', (data: Buffer) => {
    if (connected) {
      broker.write(data);
      return;
    }
    pending = Buffer.concat([pending, data]);
    const packet = firstPacket(pending);
    if (packet === 'incomplete') return;
    if (packet === 'invalid') return end();
    const rewritten = rewriteConnect(pending.subarray(0, packet), credentials);
    if (!rewritten) return end();
    connected = true;
    broker.write(Buffer.concat([rewritten, pending.subarray(packet)]));
    pending = Buffer.alloc(0);
  });
}

/** The length of the first MQTT packet in `bytes`, or whether more bytes are needed, or it cannot be MQTT. */
function firstPacket(bytes: Buffer): number | 'incomplete' | 'invalid' {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const byte = bytes[i];
    if (byte === undefined) return 'incomplete';
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) {
      const total = 1 + i + length;
      return bytes.length >= total ? total : 'incomplete';
    }
  }
  return 'invalid';
}

/** Reads MQTT's variable byte integer at `at`: its value and the offset after it. */
function varint(bytes: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = at; i < at + 4; i++) {
    const byte = bytes[i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  return undefined;
}

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return Buffer.from(out);
}

const utf8Field = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/**
 * The MQTT 3.1, 3.1.1 or 5 CONNECT packet `packet` with its user name and password replaced by `credentials` (each
 * one given replaces the page's, absent ones keep what the page sent), or undefined when it is not a CONNECT.
 */
export function rewriteConnect(packet: Buffer, credentials: RelayCredentials): Buffer | undefined {
  if (packet[0] !== 0x10) return undefined;
  const header = varint(packet, 1);
  if (!header) return undefined;
  let at = header[1];
  const nameLength = packet.readUInt16BE(at);
  at += 2 + nameLength;
  const level = packet[at];
  const flagsAt = at + 1;
  const flags = packet[flagsAt];
  if (level === undefined || flags === undefined) return undefined;
  at = flagsAt + 1 + 2; // flags, keep alive
  if (level === 5) {
    const properties = varint(packet, at);
    if (!properties) return undefined;
    at = properties[1] + properties[0];
  }
  const skipField = () => {
    at += 2 + packet.readUInt16BE(at);
  };
  skipField(); // client id
  if (flags & 0x04) {
    if (level === 5) {
      const will = varint(packet, at);
      if (!will) return undefined;
      at = will[1] + will[0];
    }
    skipField(); // will topic
    skipField(); // will payload
  }
  const restStart = at;
  let username: Buffer | undefined;
  let password: Buffer | undefined;
  if (flags & 0x80) {
    const start = at;
    skipField();
    username = packet.subarray(start, at);
  }
  if (flags & 0x40) {
    const start = at;
    skipField();
    password = packet.subarray(start, at);
  }
  if (at > packet.length) return undefined;
  if (credentials.username !== undefined) username = utf8Field(credentials.username);
  if (credentials.password !== undefined) password = utf8Field(credentials.password);
  const newFlags = (flags & 0x3f) | (username ? 0x80 : 0) | (password ? 0x40 : 0);
  const variable = Buffer.concat([
    packet.subarray(header[1], flagsAt),
    Buffer.from([newFlags]),
    packet.subarray(flagsAt + 1, restStart),
    username ?? Buffer.alloc(0),
    password ?? Buffer.alloc(0),
  ]);
  return Buffer.concat([Buffer.from([0x10]), encodeVarint(variable.length), variable]);
}
