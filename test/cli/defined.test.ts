import { describe, expect, expectTypeOf, it } from 'vitest';
import { definedOnly } from '../../src/protocol/wire/defined.js';

describe('definedOnly', () => {
  it('drops the keys whose value is undefined and keeps every other value', () => {
    const quality: number | undefined = undefined;
    const result = definedOnly({ url: 'mqtt://x', quality, zero: 0, no: false, empty: '', none: null });
    expect(result).toEqual({ url: 'mqtt://x', zero: 0, no: false, empty: '', none: null });
    expect(Object.keys(result)).not.toContain('quality');
  });

  it('types what may be undefined as optional, so it fits exactOptionalPropertyTypes', () => {
    const options: { url: string; quality?: number } = definedOnly({
      url: 'u',
      quality: Math.random() > 2 ? 1 : undefined,
    });
    expectTypeOf(definedOnly({ a: 1, b: undefined as string | undefined })).toEqualTypeOf<
      { a: 1 } & { b?: string }
    >();
    expect(options).toEqual({ url: 'u' });
  });
});
