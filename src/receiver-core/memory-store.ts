import type { Manifest } from '../protocol/manifest/manifest.js';
import type { CryptoProvider } from '../protocol/security/crypto.js';
import { toHex } from '../protocol/wire/bytes.js';
import { chunkOffset } from '../protocol/wire/chunking.js';
import type { OpenedFile, StoredFile, TransferStore } from './transfer-store.js';

/** One transfer's bytes in memory, as the display page keeps them. */
export class MemoryFile implements StoredFile {
  readonly bytes: Uint8Array;
  private digest = '';

  constructor(
    readonly manifest: Manifest,
    private readonly crypto: CryptoProvider,
    private readonly onPublish: (file: MemoryFile, sha256: string) => void,
  ) {
    this.bytes = new Uint8Array(manifest.size);
  }

  write(index: number, bytes: Uint8Array): string | undefined {
    this.bytes.set(bytes, chunkOffset(index, this.manifest.chunkBytes));
    return undefined;
  }

  async sha256(): Promise<string> {
    this.digest = toHex(await this.crypto.sha256(this.bytes));
    return this.digest;
  }

  async publish(): Promise<string> {
    this.onPublish(this, this.digest);
    return '';
  }

  async close(): Promise<void> {}
}

/** Keeps transfers in memory (the display page): nothing survives a reload, so nothing resumes. */
export class MemoryStore implements TransferStore<MemoryFile> {
  constructor(
    private readonly crypto: CryptoProvider,
    /** Receives each verified file as it is published. */
    private readonly onPublish: (file: MemoryFile, sha256: string) => void,
  ) {}

  open(manifest: Manifest): OpenedFile<MemoryFile> {
    return { ok: true, file: new MemoryFile(manifest, this.crypto, this.onPublish) };
  }
}
