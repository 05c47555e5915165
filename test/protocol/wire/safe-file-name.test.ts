import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberedFileName, safeFileName } from '../../../src/protocol/wire/safe-file-name.js';

describe('safeFileName', () => {
  it.each([
    ['../../etc/passwd', 'image/jpeg', 'passwd.jpg'],
    ['/absolute/path/photo.jpg', 'image/jpeg', 'photo.jpg'],
    ['C:\\Users\\x\\photo.png', 'image/png', 'photo.png'],
    ['a\u0000b\u0007c.jpg', 'image/jpeg', 'abc.jpg'],
    ['CON', 'image/jpeg', '_CON.jpg'],
    ['lpt1.txt', 'image/png', '_lpt1.png'],
    ['..', 'image/jpeg', 'image.jpg'],
    ['.hidden.jpg', 'image/jpeg', 'hidden.jpg'],
    ['photo.exe', 'image/jpeg', 'photo.jpg'],
    ['what?*<>|.webp', 'image/webp', 'what_____.webp'],
    ['x', 'application/x-unknown', 'x.bin'],
  ])('%j as %s becomes %s', (name, type, expected) => {
    expect(safeFileName(name, type)).toBe(expected);
  });

  it('shortens a 10,000-character name', () => {
    expect(safeFileName('a'.repeat(10_000), 'image/jpeg').length).toBeLessThanOrEqual(110);
  });

  it('never yields a path, a dot name, a control character or an empty name, whatever it is given', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (name) => {
        const safe = safeFileName(name, 'image/png');
        expect(safe).not.toMatch(/[/\\]/);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
        expect(safe).not.toMatch(/[\u0000-\u001f]/);
        expect(safe.startsWith('.')).toBe(false);
        expect(safe.endsWith('.png')).toBe(true);
        expect(safe.length).toBeGreaterThan(4);
      }),
    );
  });

  it('numbers taken names before the extension', () => {
    expect(numberedFileName('photo.jpg', 2)).toBe('photo-2.jpg');
    expect(numberedFileName('noext', 1)).toBe('noext-1');
  });
});
