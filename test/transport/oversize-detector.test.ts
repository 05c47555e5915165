import { describe, expect, it } from 'vitest';
import { OversizeDetector, publishPacketBytes } from '../../src/transport/oversize-detector.js';
import { oversizeError } from '../../src/transport/oversize-watch.js';

const CHUNK = 32_768;
const PACKET = publishPacketBytes(20, CHUNK, 1);

describe('OversizeDetector', () => {
  it('gives the verdict at the third close in a row that follows a large publish', () => {
    const d = new OversizeDetector();
    let id = 1;
    for (const t of [0, 1000, 2000]) {
      d.written(CHUNK, PACKET, t, id++);
      const verdict = d.closed(t + 5);
      if (t < 2000) expect(verdict).toBeUndefined();
      else expect(verdict).toEqual({ payloadBytes: CHUNK, packetBytes: PACKET, closes: 3 });
    }
  });

  it('takes no notice of closes long after a large publish, or after small publishes only', () => {
    const d = new OversizeDetector();
    for (const t of [0, 1000, 2000, 3000]) {
      d.written(CHUNK, PACKET, t, 1);
      expect(d.closed(t + 1500)).toBeUndefined();
    }
    for (const t of [5000, 6000, 7000, 8000]) {
      d.written(100, 130, t, 2);
      expect(d.closed(t + 5)).toBeUndefined();
    }
  });

  it('starts again after a PUBACK for a publish that large, or a close for another reason', () => {
    const d = new OversizeDetector();
    d.written(CHUNK, PACKET, 0, 1);
    d.closed(5);
    d.written(CHUNK, PACKET, 1000, 2);
    d.closed(1005);
    d.written(CHUNK, PACKET, 2000, 3);
    d.acknowledged(3); // a chunk that large got through: the broker accepts it
    d.written(CHUNK, PACKET, 2100, 4);
    expect(d.closed(2105)).toBeUndefined();
    d.written(CHUNK, PACKET, 3000, 5);
    expect(d.closed(3005)).toBeUndefined();
    expect(d.closed(4000)).toBeUndefined(); // nothing large sent on that connection: the row is broken
    for (const t of [5000, 6000]) {
      d.written(CHUNK, PACKET, t, 6);
      expect(d.closed(t + 5)).toBeUndefined();
    }
    d.written(CHUNK, PACKET, 7000, 6);
    expect(d.closed(7005)?.closes).toBe(3);
  });

  it('wants the closes within the time limit (10 s by default)', () => {
    const d = new OversizeDetector();
    for (const t of [0, 6000, 12_000, 18_000]) {
      d.written(CHUNK, PACKET, t, 1);
      const verdict = d.closed(t + 5);
      expect(verdict).toBeUndefined();
    }
  });

  it('names the smallest suspect size, and forgets the refused publishes it is asked to drop', () => {
    const d = new OversizeDetector();
    d.written(CHUNK, PACKET, 0, 1);
    d.closed(1);
    d.written(16_384, 16_420, 1000, 2);
    d.closed(1001);
    d.written(CHUNK, PACKET, 2000, 3);
    d.written(2000, 2030, 2000, 4);
    expect(d.closed(2001)?.payloadBytes).toBe(16_384);
    expect(d.dropAwaiting(16_384).sort()).toEqual([1, 2, 3]);
    expect(d.dropAwaiting(0)).toEqual([4]);
  });
});

describe('the oversize error', () => {
  it('says what happened and what to do, on exit code 4', () => {
    const error = oversizeError({ payloadBytes: CHUNK, packetBytes: PACKET, closes: 3 }, 4);
    expect(error.code).toBe('connection_lost');
    expect(error.exitCode).toBe(4);
    expect(error.suggestedChunkBytes).toBe(8192);
    expect(error.message).toContain('closed the connection 3 times right after a 32768-byte chunk');
    expect(error.message).toContain('MQTT 3.1.1 gives no reason');
    expect(error.message).toContain('use a smaller --chunk-size, e.g. 8192');
    expect(oversizeError({ payloadBytes: 2000, packetBytes: 2030, closes: 3 }, 5).suggestedChunkBytes).toBe(
      1024,
    );
  });

  it('counts PUBLISH packet bytes with the remaining-length field', () => {
    expect(publishPacketBytes(3, 100, 0)).toBe(1 + 1 + 2 + 3 + 100);
    expect(publishPacketBytes(3, 200, 1)).toBe(1 + 2 + 2 + 3 + 2 + 200);
    expect(publishPacketBytes(20, CHUNK, 1)).toBe(1 + 3 + 2 + 20 + 2 + CHUNK);
  });
});
