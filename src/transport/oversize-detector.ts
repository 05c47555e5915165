/**
 * Recognises a broker that refuses packets as large as ours. An MQTT 3.1.1 broker whose packet limit (Mosquitto's
 * `max_packet_size`) is below the chunk size cannot say so: it closes the connection at every such PUBLISH, and
 * mqtt.js reconnects and sends the same PUBLISH again, for ever. The pattern: the connection closes shortly after
 * a large PUBLISH went out, several times in a row, and no PUBLISH that large is ever acknowledged. Pure
 * bookkeeping: times are handed in, no I/O and no timers.
 */

/** Tuning of `OversizeDetector`; every field has a default. */
export interface OversizeDetectorOptions {
  /** PUBLISH payloads from this size count as large, in bytes. Default 1024: statuses and pings stay below it. */
  minPayloadBytes?: number;
  /** A close counts when it follows a large PUBLISH within this time, in milliseconds. Default 1000. */
  closeWithinMs?: number;
  /** Closes in a row that make the verdict. Default 3. */
  closesInRow?: number;
  /** The closes in a row must all fall within this time, in milliseconds. Default 10,000. */
  withinMs?: number;
}

/** The verdict: the broker probably refuses PUBLISH payloads of `payloadBytes` (or of PUBLISH packets this large). */
export interface OversizeVerdict {
  /** The largest payload in flight before each close (the smallest of these over the closes), in bytes. */
  payloadBytes: number;
  /** The whole PUBLISH packet of that payload, in bytes (fixed header, topic, packet id, payload). */
  packetBytes: number;
  /** Closes in a row that led to the verdict. */
  closes: number;
}

/** Acknowledgements awaited at once that the detector tracks; older ones are forgotten. */
const MAX_TRACKED = 4096;

/**
 * Watches one client's PUBLISH packets, acknowledgements and closes; `closed` returns the verdict, once per streak
 * of closes (closes after a verdict start a new streak).
 */
export class OversizeDetector {
  private readonly minPayloadBytes: number;
  private readonly closeWithinMs: number;
  private readonly closesInRow: number;
  private readonly withinMs: number;
  /** Packet id -> payload and packet size of large QoS 1 publishes waiting for their PUBACK. */
  private readonly awaiting = new Map<number, { payloadBytes: number; packetBytes: number }>();
  /** The largest PUBLISH written on the current connection, and when the last large one was written. */
  private largest: { payloadBytes: number; packetBytes: number } | undefined;
  private lastLargeMs = Number.NEGATIVE_INFINITY;
  /** The current streak of suspicious closes. */
  private streak: { count: number; firstMs: number; payloadBytes: number; packetBytes: number } | undefined;

  constructor(options: OversizeDetectorOptions = {}) {
    this.minPayloadBytes = options.minPayloadBytes ?? 1024;
    this.closeWithinMs = options.closeWithinMs ?? 1000;
    this.closesInRow = options.closesInRow ?? 3;
    this.withinMs = options.withinMs ?? 10_000;
  }

  /**
   * A PUBLISH went onto the socket at `nowMs` (milliseconds, any monotonic origin): `payloadBytes` of payload,
   * `packetBytes` in all; `packetId` for QoS 1 (then `acknowledged` is expected).
   */
  written(payloadBytes: number, packetBytes: number, nowMs: number, packetId?: number): void {
    if (payloadBytes < this.minPayloadBytes) return;
    this.lastLargeMs = nowMs;
    if (!this.largest || payloadBytes > this.largest.payloadBytes)
      this.largest = { payloadBytes, packetBytes };
    if (packetId === undefined) return;
    this.awaiting.delete(packetId); // a re-send goes to the end: the map keeps insertion order
    this.awaiting.set(packetId, { payloadBytes, packetBytes });
    if (this.awaiting.size > MAX_TRACKED) {
      const oldest = this.awaiting.keys().next();
      if (!oldest.done) this.awaiting.delete(oldest.value);
    }
  }

  /** The broker acknowledged the QoS 1 PUBLISH `packetId`: a payload that large gets through, so no verdict yet. */
  acknowledged(packetId: number): void {
    const acked = this.awaiting.get(packetId);
    if (!acked) return;
    this.awaiting.delete(packetId);
    if (this.streak && acked.payloadBytes >= this.streak.payloadBytes) this.streak = undefined;
  }

  /** The connection closed at `nowMs`. Returns the verdict once the pattern is seen, else undefined. */
  closed(nowMs: number): OversizeVerdict | undefined {
    const suspect = this.largest;
    const recent = nowMs - this.lastLargeMs <= this.closeWithinMs;
    this.largest = undefined;
    this.lastLargeMs = Number.NEGATIVE_INFINITY;
    if (!suspect || !recent) {
      this.streak = undefined; // a close for some other reason breaks the row
      return undefined;
    }
    if (!this.streak || nowMs - this.streak.firstMs > this.withinMs) {
      this.streak = { count: 0, firstMs: nowMs, ...suspect };
    }
    this.streak.count++;
    if (suspect.payloadBytes < this.streak.payloadBytes) {
      this.streak.payloadBytes = suspect.payloadBytes;
      this.streak.packetBytes = suspect.packetBytes;
    }
    if (this.streak.count < this.closesInRow) return undefined;
    const { payloadBytes, packetBytes, count } = this.streak;
    this.streak = undefined; // a further verdict needs closes of its own
    return { payloadBytes, packetBytes, closes: count };
  }

  /** Stops tracking the QoS 1 publishes of at least `payloadBytes` waiting for their PUBACK; returns their ids. */
  dropAwaiting(payloadBytes: number): number[] {
    const ids = [...this.awaiting].filter(([, sent]) => sent.payloadBytes >= payloadBytes).map(([id]) => id);
    for (const id of ids) this.awaiting.delete(id);
    return ids;
  }
}

/**
 * Size in bytes of an MQTT PUBLISH packet: fixed header (1 byte and the remaining length, 1 to 4 bytes), topic
 * (2-byte length and UTF-8), packet id (2 bytes at QoS 1) and payload; MQTT 5 properties not counted (a few bytes).
 */
export function publishPacketBytes(topicBytes: number, payloadBytes: number, qos: 0 | 1 | 2): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
}
