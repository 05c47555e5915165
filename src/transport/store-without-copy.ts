import type { MqttClient } from 'mqtt';

/** A PUBLISH (or other packet) as mqtt.js hands it to `_storeAndSend`; only the fields this file reads. */
interface OutgoingPacket {
  cmd: string;
  topic?: string | Buffer;
  properties?: { topicAlias?: number };
}

type Callback = (error?: Error) => void;

/** The mqtt.js 5.x internals replaced or called here (MQTT.js `lib/client.ts`). */
interface ClientInternals {
  _storeAndSend?: (packet: OutgoingPacket, cb: Callback | undefined, cbStorePut: () => void) => void;
  _writePacket?: (packet: OutgoingPacket, cb?: Callback) => void;
  outgoingStore?: { put?: (packet: OutgoingPacket, cb: Callback) => unknown };
}

/**
 * Makes `client` keep each QoS 1 PUBLISH it sends in its outgoing store as it is, instead of a deep copy; returns
 * whether it did (false: this mqtt.js has other internals, and the client copies as before: correct, slower).
 *
 * Why: mqtt.js (5.x, `MqttClient._storeAndSend`) deep-copies (rfdc) every QoS 1 PUBLISH, payload included, before
 * it stores it, only so that a topic alias can be undone in the stored copy. mqimg sets no topic aliases, and its
 * payloads are views of a prepared image that nothing changes until the transfer ends, so the copy is pure cost.
 * Measured with mqtt 5.16 (50 MB at 32 KiB chunks, 9 paired runs, 2 cores): without this the sender used ~145 ms
 * more CPU (median 1829 vs 1684 ms), peaked ~30 MiB higher (187 vs 156 MiB) and its transfer took longer in all 9
 * runs (median 0.649 vs 0.550 s); at 10 MB the difference was within noise. Worse, rfdc copies a plain
 * `Uint8Array` view with its whole underlying ArrayBuffer, so the transport must pass `Buffer`s (see
 * `MqttTransport.publish`) whether or not this applies.
 *
 * Every packet that is not a PUBLISH, has a topic alias or an empty topic goes to mqtt.js's own method, and the
 * replacement does exactly what that method does otherwise: store, call `cbStorePut`, write. A publish while
 * offline (mqtt.js `_storePacket`) is still copied, one chunk at a time. mqtt is pinned to a minor version in
 * package.json, and test/transport/store-without-copy.test.ts checks against a real broker that the store holds
 * the same payload and that a reconnect resends identical bytes: run it before moving the pin.
 */
export function storeWithoutCopy(client: MqttClient): boolean {
  const internals = client as unknown as ClientInternals;
  const original = internals._storeAndSend;
  // (packet, cb, cbStorePut): the signature the replacement assumes.
  if (typeof original !== 'function' || original.length !== 3) return false;
  if (typeof internals._writePacket !== 'function' || typeof internals.outgoingStore?.put !== 'function')
    return false;
  internals._storeAndSend = function (this: ClientInternals, packet, cb, cbStorePut) {
    const aliased = packet.properties?.topicAlias !== undefined;
    if (packet.cmd !== 'publish' || aliased || !packet.topic || packet.topic.length === 0) {
      original.call(this, packet, cb, cbStorePut);
      return;
    }
    this.outgoingStore?.put?.(packet, (error) => {
      if (error) {
        cb?.(error);
        return;
      }
      cbStorePut();
      this._writePacket?.(packet, cb);
    });
  };
  return true;
}
