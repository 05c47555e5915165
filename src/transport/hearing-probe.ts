import type { Cancel, Clock, Scheduler } from '../util/clock.js';
import type { ConnectionEvent } from './connect.js';
import type { MessageHandler } from './message-transport.js';

/** What the probe needs from a connection. */
export interface ProbeLink {
  /** Publishes at QoS 1; resolves on PUBACK. */
  publish(topic: string, payload: string): Promise<void>;
  /** Subscribes at QoS 1 (kept and checked after reconnections); resolves once granted. */
  subscribe(filters: string[]): Promise<void>;
  onMessage(handler: MessageHandler): () => void;
  /** Makes every subscription of the connection again, each SUBACK checked. */
  renew(): void;
  /** Drops the connection, so that the client reconnects (to the next broker, when there are several). */
  reconnect(): void;
  /** True while the connection is up. */
  connectedNow(): boolean;
  /** Calls `handler` at every reconnection; returns a function that removes it. */
  onReconnect(handler: () => void): () => void;
}

/** Options of a `HearingProbe`. Times are in milliseconds. */
export interface HearingProbeOptions {
  /** The probe topic: one only this client subscribes to (PROTOCOL.md 8.2: `P/mqimg/probe/<16 hex>`). */
  topic: string;
  /** Probe after this long without any incoming message. Default 60,000. */
  idleMs?: number;
  /** A probe not back after this long is lost. Default 10,000. */
  answerMs?: number;
  clock: Clock;
  scheduler: Scheduler;
  /** Told when a probe is lost, when one comes back after that, and when probes cannot work here. */
  onEvent?: (
    event: Extract<ConnectionEvent, 'probe_missing' | 'probe_back' | 'probe_unusable'>,
    detail: string,
  ) => void;
}

/** Default of `HearingProbeOptions.idleMs`. */
export const DEFAULT_PROBE_IDLE_MS = 60_000;
/** Default of `HearingProbeOptions.answerMs`. */
export const DEFAULT_PROBE_ANSWER_MS = 10_000;
/** Longest pause between probes while they keep getting lost, in milliseconds: 10 minutes. */
const MAX_IDLE_MS = 600_000;

/**
 * A receiver that has heard nothing for `idleMs` proves it still hears: it publishes a small QoS 1 message on its
 * own probe topic and waits `answerMs` for it to come back. When it does not, the subscriptions are made again
 * (each SUBACK checked) and it probes again at once; when that one is lost too, the connection is dropped and made
 * again (to the next broker when there are several); while probes keep getting lost, it says so and probes less
 * often (the pause doubles up to 10 minutes), reconnecting each time. So a receiver never stays deaf without a word.
 *
 * The first probe goes out at start: a broker whose ACL lets this user neither publish nor read its probe topic
 * (least privilege: a receiver only reads transfers and writes statuses) never returns one, and then probing is
 * off (`probe_unusable`, said with `-v`) instead of taking that for deafness again and again.
 */
export class HearingProbe {
  private lastHeardMs: number;
  private outstanding: { payload: string; sentMs: number } | undefined;
  /** Probes lost in a row. */
  private lost = 0;
  private idleMs: number;
  private readonly answerMs: number;
  private readonly stops: (Cancel | (() => void))[] = [];
  private serial = 0;
  /** Whether a probe came back on this broker: undefined until the first one is answered or lost. */
  private usable: boolean | undefined;

  constructor(
    private readonly link: ProbeLink,
    private readonly options: HearingProbeOptions,
  ) {
    this.idleMs = options.idleMs ?? DEFAULT_PROBE_IDLE_MS;
    this.answerMs = options.answerMs ?? DEFAULT_PROBE_ANSWER_MS;
    this.lastHeardMs = options.clock();
  }

  /** Subscribes to the probe topic and starts watching; resolves once the subscription was granted. */
  async start(): Promise<void> {
    this.stops.push(
      this.link.onMessage((topic, payload) => this.heard(topic, payload)),
      this.link.onReconnect(() => {
        // A new connection's subscriptions were just made again and checked: count from now.
        this.lastHeardMs = this.options.clock();
        this.outstanding = undefined;
      }),
    );
    await this.link.subscribe([this.options.topic]);
    const checkEveryMs = Math.max(100, Math.min(this.answerMs, this.idleMs) / 4);
    this.stops.push(this.options.scheduler.every(checkEveryMs, () => this.check()));
    this.send(this.options.clock()); // does a probe come back here at all?
  }

  /** Stops probing. */
  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  private heard(topic: string, payload: Uint8Array): void {
    const now = this.options.clock();
    this.lastHeardMs = now;
    if (topic !== this.options.topic || !this.outstanding) return;
    if (new TextDecoder().decode(payload) !== this.outstanding.payload) return;
    this.outstanding = undefined;
    this.usable = true;
    if (this.lost > 0) {
      this.options.onEvent?.(
        'probe_back',
        `probe came back: this receiver hears ${this.options.topic} again`,
      );
    }
    this.lost = 0;
    this.idleMs = this.options.idleMs ?? DEFAULT_PROBE_IDLE_MS;
  }

  private check(): void {
    if (!this.link.connectedNow()) return; // the reconnection makes the subscriptions again, checked
    const now = this.options.clock();
    if (this.outstanding) {
      if (now - this.outstanding.sentMs < this.answerMs) return;
      this.outstanding = undefined;
      if (this.usable !== true) {
        this.usable = false;
        this.options.onEvent?.(
          'probe_unusable',
          `a probe to itself on ${this.options.topic} did not come back (may this user publish and subscribe there?): a long silence will not be checked`,
        );
        this.stop();
        return;
      }
      this.lost++;
      this.recover();
      return;
    }
    // Probe after `idleMs` of silence; after subscribing again, at once; after reconnecting, once the new connection
    // had `answerMs` to bring something; while probes keep getting lost, every (doubled) `idleMs`.
    const waitMs = this.lost === 1 ? 0 : this.lost === 2 ? this.answerMs : this.idleMs;
    if (now - this.lastHeardMs < waitMs) return;
    this.send(now);
  }

  private send(now: number): void {
    const payload = `mqimg probe ${++this.serial} ${Math.random().toString(16).slice(2, 10)}`;
    this.outstanding = { payload, sentMs: now };
    this.link.publish(this.options.topic, payload).catch(() => {
      // Not taken (the connection dropped, or an MQTT 5 broker refused it): lost when `answerMs` passes.
    });
  }

  /** A probe was lost: make the subscriptions again, then reconnect, and say so. */
  private recover(): void {
    const idleS = Math.round(this.idleMs / 1000);
    const answerS = Math.round(this.answerMs / 1000);
    const why = `heard nothing for ${idleS} s, and a probe to itself on ${this.options.topic} did not come back within ${answerS} s`;
    if (this.lost === 1) {
      this.options.onEvent?.('probe_missing', `${why}: subscribing again`);
      this.link.renew();
      this.lastHeardMs = Number.NEGATIVE_INFINITY; // probe again at the next check
      return;
    }
    if (this.lost === 2) {
      this.options.onEvent?.('probe_missing', `${why} after subscribing again: reconnecting`);
    } else {
      this.idleMs = Math.min(MAX_IDLE_MS, this.idleMs * 2);
      this.options.onEvent?.(
        'probe_missing',
        `probes to itself still do not come back (${this.lost} lost): this receiver may hear nothing; check that its user may publish and subscribe on ${this.options.topic} (the broker's ACL); reconnecting, next probe in ${Math.round(this.idleMs / 1000)} s`,
      );
    }
    this.lastHeardMs = this.options.clock();
    this.link.reconnect();
  }
}
