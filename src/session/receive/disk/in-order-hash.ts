import { createHash, type Hash } from 'node:crypto';

/** Most bytes of early chunks kept in memory for in-order hashing, per transfer: 4 MiB. */
export const HELD_BACK_BYTES = 4 * 1024 * 1024;

/**
 * A file's SHA-256 fed with chunks in index order as they arrive, holding back early ones (at most `limitBytes`),
 * so that verification needs no second read of the file in the usual, mostly ordered, case. Past the limit it gives
 * up (`digest` then returns undefined and the caller hashes the file from disk): memory stays bounded either way.
 */
export class InOrderHash {
  private hash: Hash | undefined = createHash('sha256');
  private hashedChunks = 0;
  private readonly heldBack = new Map<number, Uint8Array>();
  private heldBackBytes = 0;

  constructor(
    private readonly chunks: number,
    private readonly limitBytes = HELD_BACK_BYTES,
  ) {}

  /** A hash that has given up from the start (a resumed transfer, whose first chunks are not in memory). */
  static abandoned(chunks: number): InOrderHash {
    const hash = new InOrderHash(chunks);
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
    this.hashedChunks++;
    for (let next = this.heldBack.get(this.hashedChunks); next; next = this.heldBack.get(this.hashedChunks)) {
      this.heldBack.delete(this.hashedChunks);
      this.heldBackBytes -= next.length;
      this.hash.update(next);
      this.hashedChunks++;
    }
  }

  /** The SHA-256 (hex) once every chunk was fed in order; undefined when it gave up (hash the file from disk). */
  digest(): string | undefined {
    if (!this.hash || this.hashedChunks !== this.chunks) return undefined;
    return this.hash.digest('hex');
  }

  private giveUp(): void {
    this.hash = undefined;
    this.heldBack.clear();
    this.heldBackBytes = 0;
  }
}
