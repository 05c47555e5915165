/**
 * Whether `bytes` look like a whole image file rather than one still being written: the end marker of JPEG
 * (EOI), PNG (IEND), GIF (trailer) and the RIFF length of WebP are checked; other formats (TIFF, AVIF, SVG...)
 * have no cheap end marker and count as whole. Reads the bytes only, no decoding: for `send --watch`, which must
 * not send a file a camera is still writing.
 */
export function looksComplete(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length >= 3 && view[0] === 0xff && view[1] === 0xd8 && view[2] === 0xff) {
    // JPEG: ends with EOI (FF D9), possibly followed by zero padding that some cameras add.
    let end = view.length;
    while (end > 0 && view[end - 1] === 0x00) end--;
    return end >= 2 && view[end - 2] === 0xff && view[end - 1] === 0xd9;
  }
  if (view.length >= 8 && view.readUInt32BE(0) === 0x89504e47) {
    // PNG: the IEND chunk (length 0, type, CRC) is the last 12 bytes.
    return view.length >= 20 && view.toString('latin1', view.length - 8, view.length - 4) === 'IEND';
  }
  if (view.length >= 6 && view.toString('latin1', 0, 3) === 'GIF') return view[view.length - 1] === 0x3b;
  if (
    view.length >= 12 &&
    view.toString('latin1', 0, 4) === 'RIFF' &&
    view.toString('latin1', 8, 12) === 'WEBP'
  )
    return view.readUInt32LE(4) + 8 <= view.length;
  return true;
}

/**
 * Whether `bytes` are provably a whole image, so that `send --watch` may send a file at its first look instead of
 * waiting for its size to settle: a PNG ending with IEND, a WebP whose RIFF length is all there, or a JPEG that
 * ends with EOI after its top-level scan began (walking the marker segments from SOI to SOS, so that a file cut
 * right after the EOI of an EXIF thumbnail, inside APP1, does not count). GIF (whose trailer byte can end a cut by
 * chance) and formats without an end marker are never provably whole: they wait for the settle time.
 */
export function provablyComplete(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length >= 3 && view[0] === 0xff && view[1] === 0xd8 && view[2] === 0xff)
    return looksComplete(view) && jpegScanStarts(view);
  const png = view.length >= 8 && view.readUInt32BE(0) === 0x89504e47;
  const webp =
    view.length >= 12 &&
    view.toString('latin1', 0, 4) === 'RIFF' &&
    view.toString('latin1', 8, 12) === 'WEBP';
  return (png || webp) && looksComplete(view);
}

/** True when the JPEG's marker segments, walked from SOI, reach a start of scan (SOS) inside `view`. */
function jpegScanStarts(view: Buffer): boolean {
  let at = 2;
  while (at + 4 <= view.length) {
    if (view[at] !== 0xff) return false;
    const marker = view[at + 1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xda) return true;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // no length
      continue;
    }
    at += 2 + view.readUInt16BE(at + 2);
  }
  return false;
}
