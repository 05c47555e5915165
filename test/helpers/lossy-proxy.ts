import { connect, createServer, type Server, type Socket } from 'node:net';

/** Decides, for each PUBLISH the broker sends to the client, whether the proxy drops it. */
export type DropRule = (topic: string, nth: number) => boolean;

/** A TCP proxy in front of a broker that drops, duplicates or delays PUBLISH packets to the client, and cuts or stalls connections. */
export interface LossyProxy {
  port: number;
  url: string;
  /** PUBLISH packets dropped so far. */
  dropped(): number;
  /** Cuts every connection now (the client sees its socket close and reconnects). */
  cut(): void;
  /** Stops forwarding in both directions for `ms` milliseconds, keeping the connections open. */
  stall(ms: number): void;
  close(): Promise<void>;
}

/** What the proxy does to traffic from the broker to the client. */
export interface ProxyOptions {
  /** Which PUBLISH packets to drop; default none. */
  drop?: DropRule;
  /** Which PUBLISH packets to deliver twice; default none. */
  duplicate?: DropRule;
  /** How long to hold back each PUBLISH, in milliseconds (later packets overtake it); default 0. */
  delayMs?: (topic: string, nth: number) => number;
  /** Limit broker -> client throughput to this many bytes per second (a slow receiver); default unlimited. */
  bytesPerSecond?: number;
}

/**
 * Proxies 127.0.0.1:<free port> to `brokerPort`, parsing MQTT packets broker -> client. A dropped QoS 1 PUBLISH is
 * acknowledged to the broker by the proxy (PUBACK), so that the broker forgets it exactly as if the client had
 * received it: the loss is invisible to both ends, like Mosquitto dropping a message for a slow subscriber.
 * With `bytesPerSecond`, the proxy reads from the broker no faster than that, so TCP backpressure makes the broker
 * queue (and, past its limits, drop) messages for this client exactly as for a slow subscriber.
 */
export async function startLossyProxy(
  brokerPort: number,
  dropOrOptions: DropRule | ProxyOptions,
): Promise<LossyProxy> {
  const options = typeof dropOrOptions === 'function' ? { drop: dropOrOptions } : dropOrOptions;
  const drop = options.drop ?? (() => false);
  const rate = options.bytesPerSecond;
  const duplicate = options.duplicate ?? (() => false);
  const delayMs = options.delayMs ?? (() => 0);
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let droppedCount = 0;
  let publishCount = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(brokerPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    let pending: Buffer = Buffer.alloc(0);
    let nextFreeMs = 0;
    upstream.on('data', (data: Buffer) => {
      if (rate !== undefined) {
        const now = performance.now();
        nextFreeMs = Math.max(now, nextFreeMs) + (data.length / rate) * 1000;
        if (nextFreeMs - now > 1) {
          upstream.pause();
          setTimeout(() => upstream.resume(), nextFreeMs - now);
        }
      }
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      let offset = 0;
      const out: Buffer[] = [];
      for (;;) {
        const packet = readPacket(pending, offset);
        if (!packet) break;
        const bytes = pending.subarray(offset, packet.end);
        offset = packet.end;
        if (packet.type === 3) {
          const topicLength = pending.readUInt16BE(packet.bodyStart);
          const topic = pending.toString('utf8', packet.bodyStart + 2, packet.bodyStart + 2 + topicLength);
          const qos = (packet.flags >> 1) & 3;
          const nth = publishCount++;
          if (drop(topic, nth)) {
            droppedCount++;
            if (qos > 0) {
              const id = pending.readUInt16BE(packet.bodyStart + 2 + topicLength);
              upstream.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
            }
            continue;
          }
          if (duplicate(topic, nth)) out.push(Buffer.from(bytes));
          const hold = delayMs(topic, nth);
          if (hold > 0) {
            const copy = Buffer.from(bytes);
            setTimeout(() => {
              if (!client.destroyed) client.write(copy);
            }, hold);
            continue;
          }
        }
        out.push(Buffer.from(bytes));
      }
      pending = Buffer.from(pending.subarray(offset));
      if (out.length > 0) client.write(Buffer.concat(out));
    });
    const closeBoth = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dropped: () => droppedCount,
    cut() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
    stall(ms: number) {
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
        setTimeout(() => {
          client.resume();
          upstream.resume();
        }, ms);
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readPacket(
  buf: Buffer,
  offset: number,
): { type: number; flags: number; bodyStart: number; end: number } | undefined {
  if (buf.length - offset < 2) return undefined;
  const first = buf[offset] ?? 0;
  let length = 0;
  let multiplier = 1;
  let i = offset + 1;
  for (;;) {
    if (i >= buf.length) return undefined;
    const byte = buf[i++] ?? 0;
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) break;
    if (i - offset > 5) throw new Error('malformed MQTT remaining length');
  }
  if (buf.length < i + length) return undefined;
  return { type: first >> 4, flags: first & 0x0f, bodyStart: i, end: i + length };
}
