import { ConnectionError } from '../errors.js';
import type { Cancel, Clock, Scheduler } from '../util/clock.js';

/** What the keeper needs from a connection: one SUBSCRIBE at a time, and whether the connection is up. */
export interface SubscribeLink {
  /**
   * Sends one SUBSCRIBE for `filters` at `qos` and resolves with what the SUBACK says of each filter, in order: the
   * granted QoS (0-2), or a failure code (0x80 on MQTT 3.1.1, a reason code >= 0x80 on MQTT 5). Rejects when the
   * connection dropped before the SUBACK came.
   */
  sendSubscribe(filters: string[], qos: 0 | 1): Promise<number[]>;
  /** True while the connection is up. */
  readonly connected: boolean;
  /** The broker's URL, for messages. */
  readonly url: string;
}

/** What the keeper reports while it works, for stderr: `detail` is one line meant for a person. */
export interface SubscriptionEvent {
  /**
   * `refused`: the first refusal of a subscription that had been working (or was new), retried from now on;
   * `refused_again`: each later refusal, with the attempt number (for `-v`); `accepted`: granted after refusals.
   */
  kind: 'refused' | 'refused_again' | 'accepted';
  detail: string;
}

/** Options of a `SubscriptionKeeper`. */
export interface SubscriptionKeeperOptions {
  clock: Clock;
  scheduler: Scheduler;
  /**
   * How long a refused subscription is retried, in milliseconds from its first refusal, before the keeper gives up
   * (default 30,000). A `subscribe` call also gives up after this long without a SUBACK that grants it.
   */
  giveUpAfterMs?: number;
  /** Told of refusals and recoveries. Default: nothing. */
  onEvent?: (event: SubscriptionEvent) => void;
  /**
   * Told once a subscription that no `subscribe` call waits for (one made again after a reconnection) was given up:
   * the connection is deaf to it, and the session must end with this error.
   */
  onFailure: (error: ConnectionError) => void;
}

/** Filters per SUBSCRIBE packet: AWS IoT Core's limit. */
export const FILTERS_PER_SUBSCRIBE = 8;
/** First pause before a refused subscription is asked for again, in milliseconds; it doubles at each refusal. */
export const RETRY_FIRST_MS = 500;
/** Longest pause between two attempts at a refused subscription, in milliseconds. */
export const RETRY_MAX_MS = 8000;
/** Default of `SubscriptionKeeperOptions.giveUpAfterMs`, in milliseconds. */
export const DEFAULT_GIVE_UP_MS = 30_000;

/** MQTT 5 SUBACK reason code "Not authorized": an ACL, retrying does not help. */
const NOT_AUTHORIZED = 0x87;
/** MQTT 5 SUBACK reasons that say the broker will never grant this filter: retrying does not help. */
const FINAL_REASONS: Record<number, string> = {
  [NOT_AUTHORIZED]: 'not authorised',
  143: 'topic filter invalid',
  158: 'shared subscriptions not supported',
  161: 'subscription identifiers not supported',
  162: 'wildcard subscriptions not supported',
};
/** Names of the other failure codes, for messages. */
const REASONS: Record<number, string> = {
  128: 'unspecified error',
  131: 'implementation specific error',
  145: 'packet identifier in use',
  151: 'quota exceeded',
  ...FINAL_REASONS,
};

/** `0x80 unspecified error`: a SUBACK (or PUBACK) failure code as a person reads it. */
export function describeReasonCode(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')} ${REASONS[code] ?? 'refused'}`;
}

interface Wanted {
  qos: 0 | 1;
  granted: boolean;
  /** Refusals since the subscription last worked. */
  attempts: number;
  /** When the first of those refusals came (clock ms). */
  refusedSinceMs: number | undefined;
  lastCode: number | undefined;
}

interface Waiter {
  pending: Set<string>;
  resolve: () => void;
  reject: (error: ConnectionError) => void;
  cancelDeadline: Cancel;
}

/**
 * Keeps a connection's subscriptions, checked. Every SUBACK is read, on the first SUBSCRIBE and after every
 * reconnection (`reconnected`: the broker forgot them, and mqimg makes them again itself instead of mqtt.js, which
 * drops a refused one without a word). A refused subscription is asked for again after 0.5 s, 1 s, 2 s... (at most
 * 8 s apart) for up to `giveUpAfterMs`; then, or at once for a reason that retrying cannot change (MQTT 5 "not
 * authorised": `auth_refused`; an invalid or unsupported filter: `subscription_refused`), it is given up: the
 * `subscribe` call waiting for it throws, or `onFailure` is told.
 */
export class SubscriptionKeeper {
  private readonly wanted = new Map<string, Wanted>();
  private readonly waiters = new Set<Waiter>();
  private readonly retries = new Set<Cancel>();
  private readonly giveUpAfterMs: number;
  private closed = false;

  constructor(
    private readonly link: SubscribeLink,
    private readonly options: SubscriptionKeeperOptions,
  ) {
    this.giveUpAfterMs = options.giveUpAfterMs ?? DEFAULT_GIVE_UP_MS;
  }

  /**
   * Subscribes to `filters` at `qos` and resolves once the broker granted every one of them. Throws a
   * `ConnectionError` when one is given up (see the class), or when `giveUpAfterMs` passed without a SUBACK granting
   * them all (`connection_lost` when the connection was down meanwhile). They stay kept until `forget`.
   */
  subscribe(filters: string[], qos: 0 | 1): Promise<void> {
    if (filters.length === 0) return Promise.resolve();
    for (const filter of filters) {
      this.wanted.set(filter, {
        qos,
        granted: false,
        attempts: 0,
        refusedSinceMs: undefined,
        lastCode: undefined,
      });
    }
    const done = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        pending: new Set(filters),
        resolve,
        reject,
        cancelDeadline: this.options.scheduler.after(this.giveUpAfterMs, () => {
          this.waiters.delete(waiter);
          reject(this.timedOut([...waiter.pending]));
        }),
      };
      this.waiters.add(waiter);
    });
    if (this.link.connected) this.send(filters, qos);
    return done;
  }

  /** Stops keeping `filters` (after an UNSUBSCRIBE, or when their transfer is over). */
  forget(filters: string[]): void {
    for (const filter of filters) this.wanted.delete(filter);
    for (const waiter of this.waiters) {
      for (const filter of filters) waiter.pending.delete(filter);
      this.settleIfDone(waiter);
    }
  }

  /** The connection came back (or moved to another broker): makes every kept subscription again. */
  reconnected(): void {
    this.cancelRetries();
    const byQos = new Map<0 | 1, string[]>();
    for (const [filter, w] of this.wanted) {
      w.granted = false;
      byQos.set(w.qos, [...(byQos.get(w.qos) ?? []), filter]);
    }
    for (const [qos, filters] of byQos) this.send(filters, qos);
  }

  /** Makes every kept subscription again on the same connection (a probe did not come back). */
  renew(): void {
    this.reconnected();
  }

  /** True when every kept subscription was granted on the current connection. */
  get allGranted(): boolean {
    return [...this.wanted.values()].every((w) => w.granted);
  }

  /** Stops retrying; pending `subscribe` calls never settle after this. */
  close(): void {
    this.closed = true;
    this.cancelRetries();
    for (const waiter of this.waiters) waiter.cancelDeadline();
    this.waiters.clear();
  }

  private cancelRetries(): void {
    for (const cancel of this.retries) cancel();
    this.retries.clear();
  }

  /** Sends `filters` at `qos`, at most FILTERS_PER_SUBSCRIBE per packet, and handles each SUBACK. */
  private send(filters: string[], qos: 0 | 1): void {
    for (let i = 0; i < filters.length; i += FILTERS_PER_SUBSCRIBE) {
      const batch = filters.slice(i, i + FILTERS_PER_SUBSCRIBE);
      this.link.sendSubscribe(batch, qos).then(
        (codes) => this.answered(batch, qos, codes),
        () => {}, // the connection dropped: `reconnected` sends them all again
      );
    }
  }

  private answered(batch: string[], qos: 0 | 1, codes: number[]): void {
    if (this.closed) return;
    const now = this.options.clock();
    const refused: { filter: string; code: number }[] = [];
    const accepted: { filter: string; refusals: number }[] = [];
    batch.forEach((filter, i) => {
      const w = this.wanted.get(filter);
      if (!w || w.qos !== qos) return; // forgotten, or asked for again at another QoS meanwhile
      const code = codes[i] ?? 0x80;
      if (code < 0x80) {
        if (w.attempts > 0) accepted.push({ filter, refusals: w.attempts });
        w.granted = true;
        w.attempts = 0;
        w.refusedSinceMs = undefined;
        for (const waiter of this.waiters) {
          waiter.pending.delete(filter);
          this.settleIfDone(waiter);
        }
        return;
      }
      w.attempts++;
      w.refusedSinceMs ??= now;
      w.lastCode = code;
      refused.push({ filter, code });
    });
    const [recovered] = accepted;
    if (recovered) {
      const n = recovered.refusals;
      this.options.onEvent?.({
        kind: 'accepted',
        detail: `the broker at ${this.link.url} accepted the subscription to ${describeFilters(accepted.map((a) => a.filter))} after ${n} ${n === 1 ? 'refusal' : 'refusals'}`,
      });
    }
    if (refused.length === 0) return;
    const given = refused.filter(
      ({ filter, code }) =>
        FINAL_REASONS[code] !== undefined ||
        now - (this.wanted.get(filter)?.refusedSinceMs ?? now) >= this.giveUpAfterMs,
    );
    if (given.length > 0) {
      this.giveUp(given.map((r) => r.filter));
      return;
    }
    const first = refused[0] ?? { filter: '', code: 0x80 };
    const attempts = this.wanted.get(first.filter)?.attempts ?? 1;
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
    const names = describeFilters(refused.map((r) => r.filter));
    this.options.onEvent?.(
      attempts === 1
        ? {
            kind: 'refused',
            detail: `the broker at ${this.link.url} refused the subscription to ${names} (${describeReasonCode(first.code)}); asking again for up to ${Math.round(this.giveUpAfterMs / 1000)} s`,
          }
        : {
            kind: 'refused_again',
            detail: `subscription to ${names} refused again (${describeReasonCode(first.code)}, attempt ${attempts}); next attempt in ${delayMs / 1000} s`,
          },
    );
    const cancel = this.options.scheduler.after(delayMs, () => {
      this.retries.delete(cancel);
      if (!this.link.connected) return; // `reconnected` asks for them all
      const again = refused.map((r) => r.filter).filter((f) => this.wanted.get(f)?.granted === false);
      if (again.length > 0) this.send(again, qos);
    });
    this.retries.add(cancel);
  }

  /** Gives up `filters`: the `subscribe` calls waiting for them throw; with none waiting, `onFailure` is told. */
  private giveUp(filters: string[]): void {
    const error = this.refusedError(filters);
    let waited = false;
    for (const waiter of [...this.waiters]) {
      if (!filters.some((f) => waiter.pending.has(f))) continue;
      waited = true;
      waiter.cancelDeadline();
      this.waiters.delete(waiter);
      waiter.reject(error);
    }
    for (const filter of filters) this.wanted.delete(filter);
    if (!waited) this.options.onFailure(error);
  }

  private settleIfDone(waiter: Waiter): void {
    if (waiter.pending.size > 0) return;
    waiter.cancelDeadline();
    this.waiters.delete(waiter);
    waiter.resolve();
  }

  /** The error for subscriptions to `filters` refused for good. */
  private refusedError(filters: string[]): ConnectionError {
    const w = this.wanted.get(filters[0] ?? '');
    const code = w?.lastCode ?? 0x80;
    const names = describeFilters(filters);
    if (code === NOT_AUTHORIZED) {
      return new ConnectionError(
        'auth_refused',
        `the broker at ${this.link.url} refused the subscription to ${names} (not authorised): check the broker's ACL for this user`,
      );
    }
    if (FINAL_REASONS[code] !== undefined) {
      return new ConnectionError(
        'subscription_refused',
        `the broker at ${this.link.url} refused the subscription to ${names} (${describeReasonCode(code)}): it will not take this topic filter`,
      );
    }
    const seconds = Math.round(this.giveUpAfterMs / 1000);
    return new ConnectionError(
      'subscription_refused',
      `the broker at ${this.link.url} kept refusing the subscription to ${names} for ${seconds} s (${describeReasonCode(code)}, ${w?.attempts ?? 1} attempts): check its ACL for this user and its log (MQTT 3.1.1 brokers do not say why; a cluster node that is still recovering refuses for a few seconds)`,
    );
  }

  /** The error for a `subscribe` call whose filters `pending` were not all granted in time. */
  private timedOut(pending: string[]): ConnectionError {
    const refused = pending.filter((f) => (this.wanted.get(f)?.attempts ?? 0) > 0);
    if (refused.length > 0) {
      const error = this.refusedError(refused);
      for (const filter of refused) this.wanted.delete(filter);
      return error;
    }
    const seconds = Math.round(this.giveUpAfterMs / 1000);
    if (!this.link.connected) {
      return new ConnectionError(
        'connection_lost',
        `lost the connection to ${this.link.url} and it did not come back within ${seconds} s`,
      );
    }
    return new ConnectionError(
      'subscription_refused',
      `the broker at ${this.link.url} did not answer the subscription to ${describeFilters(pending)} within ${seconds} s`,
    );
  }
}

/** `a/mqimg/+/m`, or `a/mqimg/+/m and 3 more`. */
function describeFilters(filters: string[]): string {
  const [first = '', ...rest] = filters;
  return rest.length === 0 ? first : `${first} and ${rest.length} more`;
}
