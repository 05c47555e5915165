import type { CryptoProvider } from '../protocol/security/crypto.js';
import { encodeStatus, type Status } from '../protocol/status/status.js';
import { sealStatus } from '../protocol/status/status-seal.js';
import { FAILURE_CODES, type FailureCode } from '../protocol/wire/codes.js';
import { statusTopic } from '../protocol/wire/topics.js';
import type { MessageTransport } from '../transport/message-transport.js';
import { SenderAnswers } from './sender-answers.js';

/**
 * How a receiver talks to senders: publishes statuses (sealed under the transfer's status key for encrypted
 * transfers, protocol/status-seal.ts), remembers and repeats final ones, and asks for unknown manifests, rate-limited
 * (SenderAnswers). Publishing never throws: a lost status is repeated by the heartbeat, and the transport reports
 * what ends the session (an outage; a publish refused as not authorised makes MqttTransport fail, and the receiver
 * ends with exit 5).
 */
export class StatusPublisher {
  private readonly answers = new SenderAnswers();

  constructor(
    private readonly transport: MessageTransport,
    private readonly crypto: CryptoProvider,
    readonly receiverId: string,
  ) {}

  /** Publishes `status` for transfer `id` on `topic`; sealed when `key` (a status key) is given. */
  send(topic: string, id: string, status: Status, key?: Promise<Uint8Array>): void {
    const payload = key ? key.then((k) => sealStatus(this.crypto, k, id, status)) : encodeStatus(status);
    void Promise.resolve(payload)
      .then((bytes) => this.transport.publish(statusTopic(topic, id), bytes))
      .catch(() => {});
  }

  /** Publishes a final status and remembers it, to repeat to a sender that missed it. */
  final(topic: string, id: string, status: Status, nowMs: number, key?: Promise<Uint8Array>): void {
    this.answers.finish(id, topic, status, nowMs, key);
    this.send(topic, id, status, key);
  }

  /**
   * Publishes `failed` with reason `code` for transfer `id`. A `final` code (FAILURE_CODES) is remembered and
   * repeated to the sender; a passing one (timeout, too many transfers at once) is not, so that the same transfer
   * can start again later.
   */
  failed(topic: string, id: string, code: FailureCode, nowMs: number, key?: Promise<Uint8Array>): void {
    const status: Status = { rx: this.receiverId, state: 'failed', reason: code };
    if (FAILURE_CODES[code].final) this.final(topic, id, status, nowMs, key);
    else this.send(topic, id, status, key);
  }

  /** True when transfer `id` finished here (its final status is remembered). */
  isFinished(id: string): boolean {
    return this.answers.isFinished(id);
  }

  /** Repeats the final status of transfer `id`, at most every FINAL_REPEAT_MS unless `force`d (a manifest). */
  repeatFinal(id: string, nowMs: number, force: boolean): void {
    const done = this.answers.repeatFinal(id, nowMs, force);
    if (done) this.send(done.topic, id, done.status, done.key);
  }

  /** Asks the sender of unknown transfer `id` for its manifest, at most once a second per id. */
  askForManifest(topic: string, id: string, nowMs: number): void {
    if (this.answers.askForManifest(id, nowMs)) this.wantManifest(topic, id);
  }

  /**
   * Asks the sender of transfer `id` for its manifest now: one this receiver can resume (partial state on disk) or
   * refused for now and has room for again.
   */
  wantManifest(topic: string, id: string): void {
    this.send(topic, id, { rx: this.receiverId, state: 'want-manifest' });
  }

  /** Forgets that `id` was unknown (its manifest arrived). */
  known(id: string): void {
    this.answers.known(id);
  }
}
