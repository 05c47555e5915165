import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/** Most bytes of early chunks kept in memory for in-order hashing, per transfer: 4 MiB. */
export const HELD_BACK_BYTES = 4 * 1024 * 1024;

/** What a complete file's bytes come to: its SHA-256 and the proof of receipt (protocol/receipt.ts), both hex. */
export interface FileDigests {
  sha256: string;
  proof: string;
}

/**
 * A file's SHA-256 and proof of receipt (HMAC-SHA256 keyed by the manifest's nonce over the file, then the
 * receiver id) fed with chunks in index order as they arrive, holding back early ones (at most `limitBytes`),
 * so that verification needs no second read of the file in the usual, mostly ordered, case. Past the limit it gives
 * up (`digest` then returns undefined and the caller hashes the file from disk): memory stays bounded either way.
 */
export class InOrderHash {
  private hash: Hash | undefined = createHash('sha256');
  private mac: Hmac | undefined;
  private hashedChunks = 0;
  private readonly heldBack = new Map<number, Uint8Array>();
  private heldBackBytes = 0;

  constructor(
    private readonly chunks: number,
    /** The manifest's nonce (32 hex digits) and this receiver's id: what the proof of receipt is keyed with. */
    nonceHex: string,
    private readonly receiverId: string,
    private readonly limitBytes = HELD_BACK_BYTES,
  ) {
    this.mac = createHmac('sha256', Buffer.from(nonceHex, 'hex'));
  }

  /** A hash that has given up from the start (a resumed transfer, whose first chunks are not in memory). */
  static abandoned(chunks: number, nonceHex: string, receiverId: string): InOrderHash {
    const hash = new InOrderHash(chunks, nonceHex, receiverId);
    hash.giveUp();
    return hash;
  }

  /** Feeds chunk `index` (each index once). */
  add(index: number, payload: Uint8Array): void {
    if (!this.hash) return;
    if (index !== this.hashedChunks) {
      this.heldBack.set(index, payload);
      this.heldBackBytes += payload.length;
      if (this.heldBackBytes > this.limitBytes) this.giveUp();
      return;
    }
    this.hash.update(payload);
    this.mac?.update(payload);
    this.hashedChunks++;
    for (let next = this.heldBack.get(this.hashedChunks); next; next = this.heldBack.get(this.hashedChunks)) {
      this.heldBack.delete(this.hashedChunks);
      this.heldBackBytes -= next.length;
      this.hash.update(next);
      this.mac?.update(next);
      this.hashedChunks++;
    }
  }

  /** The digests once every chunk was fed in order; undefined when it gave up (hash the file from disk). */
  digest(): FileDigests | undefined {
    if (!this.hash || !this.mac || this.hashedChunks !== this.chunks) return undefined;
    return { sha256: this.hash.digest('hex'), proof: this.mac.update(this.receiverId, 'utf8').digest('hex') };
  }

  private giveUp(): void {
    this.hash = undefined;
    this.mac = undefined;
    this.heldBack.clear();
    this.heldBackBytes = 0;
  }
}
