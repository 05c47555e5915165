import type { MqttClient, Packet } from 'mqtt';
import { ConnectionError } from '../errors.js';
import {
  OversizeDetector,
  type OversizeDetectorOptions,
  type OversizeVerdict,
  publishPacketBytes,
} from './oversize-detector.js';

/** Smallest `--chunk-size` this module suggests, in bytes. */
const MIN_SUGGESTED_CHUNK_BYTES = 1024;

/**
 * The error a transport fails with when the broker keeps closing the connection at large packets (code
 * 'connection_lost', exit 4): names the size and says to lower `--chunk-size`. `payloadBytes`, `packetBytes` and
 * `suggestedChunkBytes` let a sender step its chunk size down instead of stopping.
 */
export class OversizePacketError extends ConnectionError {
  constructor(
    /** The payload in flight before each close, in bytes (for a chunk: its `--chunk-size`). */
    readonly payloadBytes: number,
    /** The whole PUBLISH packet, in bytes. */
    readonly packetBytes: number,
    /** A chunk size likely to fit, in bytes: a power of two at most a quarter of `payloadBytes`, at least 1024. */
    readonly suggestedChunkBytes: number,
    message: string,
  ) {
    super('connection_lost', message);
  }
}

/** The error for `verdict` on a connection with MQTT `protocolVersion` (4: 3.1.1, 5). */
export function oversizeError(verdict: OversizeVerdict, protocolVersion: 4 | 5): OversizePacketError {
  const suggested = Math.max(MIN_SUGGESTED_CHUNK_BYTES, 2 ** Math.floor(Math.log2(verdict.payloadBytes / 4)));
  const why = protocolVersion === 4 ? 'MQTT 3.1.1 gives no reason' : 'it gave no reason';
  return new OversizePacketError(
    verdict.payloadBytes,
    verdict.packetBytes,
    suggested,
    `the broker closed the connection ${verdict.closes} times right after a ${verdict.payloadBytes}-byte chunk (a ${verdict.packetBytes}-byte packet): it probably refuses packets that large (${why}; Mosquitto: max_packet_size); use a smaller --chunk-size, e.g. ${suggested}`,
  );
}

/**
 * Watches `client` for a broker that closes the connection at every large PUBLISH (oversize-detector.ts). When it
 * sees one, calls `onOversize` with an `OversizePacketError` (first, so that the caller can fail its publishes of
 * that size with it), then removes the QoS 1 publishes of that size from mqtt.js's store: otherwise mqtt.js sends
 * them again at each reconnection and the broker closes every connection; smaller packets then get through. Calls
 * `onOversize` again only for a smaller size. `nowMs` is a monotonic clock in milliseconds (default
 * `performance.now`). Returns a function that stops watching.
 */
export function watchOversize(
  client: MqttClient,
  protocolVersion: 4 | 5,
  onOversize: (error: OversizePacketError) => void,
  options: OversizeDetectorOptions = {},
  nowMs: () => number = () => performance.now(),
): () => void {
  const detector = new OversizeDetector(options);
  let refusedBytes = Number.POSITIVE_INFINITY;
  const onSend = (packet: Packet) => {
    if (packet.cmd !== 'publish') return;
    const payloadBytes =
      typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
    const packetBytes = publishPacketBytes(Buffer.byteLength(packet.topic), payloadBytes, packet.qos);
    detector.written(payloadBytes, packetBytes, nowMs(), packet.qos > 0 ? packet.messageId : undefined);
  };
  const onReceive = (packet: Packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) detector.acknowledged(packet.messageId);
  };
  const onClose = () => {
    const verdict = detector.closed(nowMs());
    if (!verdict || verdict.payloadBytes >= refusedBytes) return;
    refusedBytes = verdict.payloadBytes;
    onOversize(oversizeError(verdict, protocolVersion));
    for (const id of detector.dropAwaiting(refusedBytes)) client.removeOutgoingMessage(id);
  };
  client.on('packetsend', onSend);
  client.on('packetreceive', onReceive);
  client.on('close', onClose);
  return () => {
    client.off('packetsend', onSend);
    client.off('packetreceive', onReceive);
    client.off('close', onClose);
  };
}
