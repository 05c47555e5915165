import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { errnoCode, errnoMessage } from '../../src/util/errno-message.js';

describe('errnoMessage', () => {
  it('says why a file cannot be read, in words for the common codes', async () => {
    const missing = await readFile('/no/such/file/here').catch((error: unknown) => error);
    expect(errnoCode(missing)).toBe('ENOENT');
    expect(errnoMessage(missing)).toBe('no such file');
    expect(errnoMessage(missing, { ENOENT: 'no such file or folder' })).toBe('no such file or folder');
    const directory = await readFile('/').catch((error: unknown) => error);
    expect(errnoMessage(directory)).toBe('it is a directory');
  });

  it('falls back to the code, then to the message', () => {
    expect(errnoMessage(Object.assign(new Error('boom'), { code: 'EWEIRD' }))).toBe('EWEIRD');
    expect(errnoMessage(new Error('plain'))).toBe('plain');
    expect(errnoCode('not an error')).toBeUndefined();
  });
});
