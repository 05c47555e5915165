import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reassembly } from '../../../src/protocol/receive/reassembly.js';
import { chunkCount, chunkLength, chunkView } from '../../../src/protocol/wire/chunking.js';
import { expandRanges } from '../../../src/protocol/wire/ranges.js';

describe('chunking', () => {
  it('splits any payload into chunks that concatenate back to it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 5000 }),
        fc.integer({ min: 1, max: 700 }),
        (bytes, chunkBytes) => {
          const n = chunkCount(bytes.length, chunkBytes);
          const parts = Array.from({ length: n }, (_, i) => chunkView(bytes, i, chunkBytes));
          expect(Buffer.concat(parts).equals(Buffer.from(bytes))).toBe(true);
          for (const [i, p] of parts.entries())
            expect(p.length).toBe(chunkLength(i, bytes.length, chunkBytes));
          expect(parts.slice(0, -1).every((p) => p.length === chunkBytes)).toBe(true);
        },
      ),
    );
  });
});

describe('Reassembly', () => {
  it('completes from chunks in any order with duplicates, and tracks next/high/missing like a plain set', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 200 })
          .chain((chunks) =>
            fc.tuple(
              fc.constant(chunks),
              fc.array(fc.integer({ min: 0, max: chunks - 1 }), { maxLength: 400 }),
            ),
          ),
        ([chunks, arrivals]) => {
          const chunkBytes = 100;
          const size = chunks * chunkBytes - 37 > 0 ? chunks * chunkBytes - 37 : 1;
          const r = new Reassembly(chunks, size, chunkBytes);
          const model = new Set<number>();
          for (const i of arrivals) {
            const result = r.accept(i, chunkLength(i, size, chunkBytes));
            expect(result.kind).toBe(model.has(i) ? 'duplicate' : 'new');
            model.add(i);
          }
          let next = 0;
          while (model.has(next)) next++;
          expect(r.next).toBe(next);
          expect(r.received).toBe(model.size);
          expect(r.high).toBe(model.size ? Math.max(...model) : -1);
          expect(r.complete).toBe(model.size === chunks);
          // Missing ranges cover exactly the holes below `high`.
          const reported = [...expandRanges(r.missing(100_000), chunks)];
          const expected = Array.from({ length: Math.max(0, r.high) }, (_, i) => i).filter(
            (i) => !model.has(i),
          );
          expect(reported).toEqual(expected);
          // A bitmap restores the same state.
          const restored = new Reassembly(chunks, size, chunkBytes, r.bitmap());
          expect([restored.next, restored.high, restored.received]).toEqual([r.next, r.high, r.received]);
        },
      ),
    );
  });

  it('rejects out-of-range indices and wrong lengths without recording them', () => {
    const r = new Reassembly(3, 250, 100);
    expect(r.accept(3, 50)).toMatchObject({ kind: 'rejected', code: 'index_out_of_range' });
    expect(r.accept(-1, 100)).toMatchObject({ kind: 'rejected', code: 'index_out_of_range' });
    expect(r.accept(0.5, 100)).toMatchObject({ kind: 'rejected', code: 'index_out_of_range' });
    expect(r.accept(0, 99)).toMatchObject({ kind: 'rejected', code: 'wrong_length' });
    expect(r.accept(2, 100)).toMatchObject({
      kind: 'rejected',
      code: 'wrong_length',
      message: expect.stringMatching(/says it has 50/),
    });
    expect(r.received).toBe(0);
    expect(r.accept(2, 50)).toEqual({ kind: 'new' });
  });

  it('limits the number of missing ranges reported, lowest first', () => {
    const r = new Reassembly(100, 10_000, 100);
    for (let i = 0; i < 100; i += 2) r.accept(i, 100);
    expect(r.missing(3)).toEqual([
      [1, 1],
      [3, 3],
      [5, 5],
    ]);
  });
});
