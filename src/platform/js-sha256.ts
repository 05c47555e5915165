import type { CryptoProvider } from '../protocol/security/crypto.js';

/** SHA-256 round constants (FIPS 180-4, 4.2.2). */
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

/**
 * SHA-256 in plain JavaScript, fed in pieces. For the display page opened over plain http on a network address
 * (a tablet at http://192.168.1.10:8080/): browsers give WebCrypto (`crypto.subtle`) to secure contexts only
 * (https, localhost), and without it the page must still check every chunk and the file.
 */
export class Sha256 {
  private readonly h = Uint32Array.from([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  private readonly w = new Uint32Array(64);
  private readonly block = new Uint8Array(64);
  private blockBytes = 0;
  private totalBytes = 0;

  update(data: Uint8Array): this {
    let at = 0;
    this.totalBytes += data.length;
    if (this.blockBytes > 0) {
      const take = Math.min(64 - this.blockBytes, data.length);
      this.block.set(data.subarray(0, take), this.blockBytes);
      this.blockBytes += take;
      at = take;
      if (this.blockBytes < 64) return this;
      this.compress(this.block, 0);
      this.blockBytes = 0;
    }
    for (; at + 64 <= data.length; at += 64) this.compress(data, at);
    this.block.set(data.subarray(at), 0);
    this.blockBytes = data.length - at;
    return this;
  }

  digest(): Uint8Array {
    const bits = this.totalBytes * 8;
    const tail = new Uint8Array(this.blockBytes < 56 ? 64 : 128);
    tail.set(this.block.subarray(0, this.blockBytes));
    tail[this.blockBytes] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(tail.length - 4, bits >>> 0);
    for (let at = 0; at < tail.length; at += 64) this.compress(tail, at);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(i * 4, this.h[i] ?? 0);
    return out;
  }

  private compress(bytes: Uint8Array, at: number): void {
    const w = this.w;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] =
        ((bytes[j] ?? 0) << 24) |
        ((bytes[j + 1] ?? 0) << 16) |
        ((bytes[j + 2] ?? 0) << 8) |
        (bytes[j + 3] ?? 0);
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] ?? 0;
      const b = w[i - 2] ?? 0;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = ((w[i - 16] ?? 0) + s0 + (w[i - 7] ?? 0) + s1) | 0;
    }
    const h = this.h;
    let a = h[0] ?? 0;
    let b = h[1] ?? 0;
    let c = h[2] ?? 0;
    let d = h[3] ?? 0;
    let e = h[4] ?? 0;
    let f = h[5] ?? 0;
    let g = h[6] ?? 0;
    let hh = h[7] ?? 0;
    for (let i = 0; i < 64; i++) {
      const t1 =
        (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + (K[i] ?? 0) + (w[i] ?? 0)) |
        0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] ?? 0) + a;
    h[1] = (h[1] ?? 0) + b;
    h[2] = (h[2] ?? 0) + c;
    h[3] = (h[3] ?? 0) + d;
    h[4] = (h[4] ?? 0) + e;
    h[5] = (h[5] ?? 0) + f;
    h[6] = (h[6] ?? 0) + g;
    h[7] = (h[7] ?? 0) + hh;
  }
}

/** HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`. */
export function hmacSha256Js(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? new Sha256().update(key).digest() : key);
  const inner = new Sha256().update(block.map((b) => b ^ 0x36));
  for (const part of parts) inner.update(part);
  return new Sha256()
    .update(block.map((b) => b ^ 0x5c))
    .update(inner.digest())
    .digest();
}

/**
 * The `CryptoProvider` of a page without WebCrypto (plain http on a network address): SHA-256 and HMAC-SHA256 in
 * JavaScript, enough to check chunks and files and to prove receipt. Signatures and encryption need WebCrypto:
 * those operations throw a message that says to serve the page over https or open it on localhost.
 */
export function plainJsCrypto(): CryptoProvider {
  const needsWebCrypto = async (): Promise<never> => {
    throw new Error(
      'signed or encrypted transfers need WebCrypto, which browsers give only to https pages and localhost: serve the page over https (or open it on the display machine itself)',
    );
  };
  return {
    sha256: async (data) => new Sha256().update(data).digest(),
    hmacSha256: async (key, data) => hmacSha256Js(key, data),
    hkdfSha256: needsWebCrypto,
    aesGcmSeal: needsWebCrypto,
    aesGcmOpen: needsWebCrypto,
    ed25519Sign: needsWebCrypto,
    ed25519Verify: needsWebCrypto,
    x25519: needsWebCrypto,
    randomBytes: (length) => globalThis.crypto.getRandomValues(new Uint8Array(length)),
  };
}
