import type { Manifest } from '../protocol/manifest/manifest.js';
import type { Reassembly } from '../protocol/receive/reassembly.js';
import { TransferIntake } from '../protocol/receive/transfer-intake.js';
import { ProofAccumulator } from '../protocol/security/receipt.js';
import type { AckPolicy } from '../protocol/status/ack-policy.js';
import type { Status } from '../protocol/status/status.js';
import { fromHex } from '../protocol/wire/bytes.js';
import type { HeldState, StoredFile } from './transfer-store.js';

/**
 * One transfer a receiver is taking in, on Node or in the page: its manifest, the receiver rules of the protocol
 * (TransferIntake: pages, waiting and held chunks, repairs, acknowledgements) and where its bytes are kept (a
 * StoredFile). Knows nothing of MQTT: the receiver core routes messages to it and publishes what it says.
 */
export class CoreTransfer<F extends StoredFile = StoredFile> {
  readonly intake: TransferIntake;
  /** Set once the transfer is being verified and saved, or was given up: later chunks are ignored. */
  finishing = false;
  /** Encrypted transfers: the key this receiver seals its statuses with (protocol/status-seal.ts). */
  statusKey: Promise<Uint8Array> | undefined;
  /** When its last chunk arrived, in monotonic milliseconds. */
  lastChunkMs = 0;
  /** The proof of receipt as the chunks come (PROTOCOL.md 7.1). */
  readonly proof: ProofAccumulator;
  /** The manifest's nonce as 16 bytes. */
  readonly nonce: Uint8Array;
  /** True when the chunks held at a resume came under another nonce: the store computes the proof at the end. */
  readonly proofFromStore: boolean;

  constructor(
    readonly manifest: Manifest,
    /** The sender topic. */
    readonly topic: string,
    readonly file: F,
    /** The key chunks are sealed with (encrypted transfers only). */
    readonly chunkKey: Uint8Array | undefined,
    /** When the transfer was first admitted, in monotonic milliseconds. */
    readonly startedMs: number,
    /** What an interrupted earlier run held, when resuming. */
    resumed?: HeldState,
  ) {
    this.intake = new TransferIntake(manifest, startedMs, resumed?.bitmap);
    this.proof = new ProofAccumulator(resumed?.proof);
    this.proofFromStore = resumed !== undefined && resumed.proof.length === 0;
    this.nonce = fromHex(manifest.nonce);
  }

  get id(): string {
    return this.manifest.id;
  }

  get reassembly(): Reassembly {
    return this.intake.reassembly;
  }

  get ack(): AckPolicy {
    return this.intake.ack;
  }

  /** Pages and chunks received so far (held, or waiting for their page). */
  get received(): number {
    return this.intake.received;
  }

  /** Hash pages of the transfer. */
  get pageCount(): number {
    return this.intake.pageCount;
  }

  /** Monotonic time of the last chunk or manifest, in milliseconds. */
  get lastActivityMs(): number {
    return this.intake.lastActivityMs;
  }

  set lastActivityMs(ms: number) {
    this.intake.lastActivityMs = ms;
  }

  /** "nothing received for N s with X of Y chunks held", as of monotonic `nowMs`. */
  heldSummary(nowMs: number): string {
    return this.intake.heldSummary(nowMs);
  }

  /** The `receiving` status to publish now, offering `windowChunks`; records that it went out. */
  status(receiverId: string, windowChunks: number, nowMs: number): Status {
    return this.intake.status(receiverId, windowChunks, nowMs);
  }
}
