import { describe, expect, it } from 'vitest';
import type { ConnectionError } from '../../src/errors.js';
import {
  type SubscribeLink,
  type SubscriptionEvent,
  SubscriptionKeeper,
} from '../../src/transport/subscription-keeper.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';

/** A connection whose SUBACKs the test writes: `answers` gives the codes of each SUBSCRIBE in turn. */
class FakeLink implements SubscribeLink {
  connected = true;
  readonly url = 'mqtt://fake:1883';
  readonly sent: { filters: string[]; qos: 0 | 1 }[] = [];
  /** Code for each filter of the next SUBSCRIBEs; when empty, granted at the QoS asked for. */
  answers: ((filter: string) => number)[] = [];

  sendSubscribe(filters: string[], qos: 0 | 1): Promise<number[]> {
    this.sent.push({ filters, qos });
    if (!this.connected) return Promise.reject(new Error('Connection closed'));
    const answer = this.answers.shift() ?? (() => qos);
    return Promise.resolve(filters.map(answer));
  }
}

function setUp(giveUpAfterMs = 30_000) {
  const scheduler = new FakeScheduler();
  const link = new FakeLink();
  const events: SubscriptionEvent[] = [];
  const failures: ConnectionError[] = [];
  const keeper = new SubscriptionKeeper(link, {
    clock: scheduler.clock,
    scheduler,
    giveUpAfterMs,
    onEvent: (event) => events.push(event),
    onFailure: (error) => failures.push(error),
  });
  return { scheduler, link, events, failures, keeper };
}

/** Whether `promise` settled: 'resolved', the rejection, or 'pending'. */
function state(promise: Promise<void>): () => unknown {
  let result: unknown = 'pending';
  promise.then(
    () => {
      result = 'resolved';
    },
    (error: unknown) => {
      result = error;
    },
  );
  return () => result;
}

describe('SubscriptionKeeper: every SUBACK checked', () => {
  it('resolves once every filter is granted, sending at most 8 filters per SUBSCRIBE', async () => {
    const { keeper, link, scheduler } = setUp();
    const filters = Array.from({ length: 10 }, (_, i) => `t/${i}/mqimg/+/m`);
    const done = state(keeper.subscribe(filters, 1));
    await scheduler.advance(0);
    expect(done()).toBe('resolved');
    expect(link.sent.map((s) => s.filters.length)).toEqual([8, 2]);
  });

  it('retries a refused subscription after 0.5 s, 1 s, 2 s..., says so once, then each retry only as refused_again', async () => {
    const { keeper, link, scheduler, events } = setUp();
    link.answers = [() => 0x80, () => 0x80, () => 0x80];
    const done = state(keeper.subscribe(['cam/mqimg/+/m'], 1));
    await scheduler.advance(0);
    expect(done()).toBe('pending');
    expect(events.map((e) => e.kind)).toEqual(['refused']);
    expect(events[0]?.detail).toMatch(
      /refused the subscription to cam\/mqimg\/\+\/m \(0x80 unspecified error\)/,
    );
    await scheduler.advance(499);
    expect(link.sent).toHaveLength(1);
    await scheduler.advance(1);
    expect(link.sent).toHaveLength(2);
    await scheduler.advance(1000);
    expect(link.sent).toHaveLength(3);
    expect(events[2]?.detail).toMatch(/attempt 3\); next attempt in 2 s/);
    await scheduler.advance(2000); // the fourth attempt is granted
    expect(done()).toBe('resolved');
    expect(events.map((e) => e.kind)).toEqual(['refused', 'refused_again', 'refused_again', 'accepted']);
    expect(events[3]?.detail).toMatch(/accepted the subscription to cam\/mqimg\/\+\/m after 3 refusals/);
  });

  it('caps the pause between attempts at 8 s', async () => {
    const { keeper, link, scheduler } = setUp(120_000);
    link.answers = Array.from({ length: 20 }, () => () => 0x80);
    void keeper.subscribe(['a'], 1).catch(() => {});
    await scheduler.advance(0);
    await scheduler.advance(0.5e3 + 1e3 + 2e3 + 4e3 + 8e3); // attempts 2..6
    const before = link.sent.length;
    await scheduler.advance(7999);
    expect(link.sent.length).toBe(before);
    await scheduler.advance(1);
    expect(link.sent.length).toBe(before + 1);
  });

  it('gives up after giveUpAfterMs of refusals: subscription_refused (exit 4), not an internal error', async () => {
    const { keeper, link, scheduler } = setUp(5000);
    link.answers = Array.from({ length: 50 }, () => () => 0x80);
    const done = state(keeper.subscribe(['cam/mqimg/+/m'], 1));
    await scheduler.advance(0); // the SUBACK (promises settle as time moves)
    await scheduler.advance(5000);
    const error = done() as ConnectionError;
    expect(error.code).toBe('subscription_refused');
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/kept refusing the subscription to cam\/mqimg\/\+\/m for 5 s \(0x80/);
  });

  it('gives up at once on MQTT 5 "not authorised": auth_refused (exit 5)', async () => {
    const { keeper, link, scheduler } = setUp();
    link.answers = [() => 0x87];
    const done = state(keeper.subscribe(['secret/mqimg/+/m'], 1));
    await scheduler.advance(0);
    const error = done() as ConnectionError;
    expect(error.code).toBe('auth_refused');
    expect(error.exitCode).toBe(5);
    expect(error.message).toMatch(/refused the subscription to secret\/mqimg\/\+\/m \(not authorised\)/);
    expect(link.sent).toHaveLength(1);
  });

  it('makes every subscription again after a reconnection, and checks those SUBACKs too', async () => {
    const { keeper, link, scheduler, failures, events } = setUp(3000);
    await Promise.all([keeper.subscribe(['m/1', 'm/2'], 1), keeper.subscribe(['c/1'], 0)]);
    link.sent.length = 0;
    link.answers = Array.from({ length: 20 }, () => () => 0x80);
    keeper.reconnected();
    await scheduler.advance(0);
    expect(link.sent.map((s) => [s.filters, s.qos])).toEqual([
      [['m/1', 'm/2'], 1],
      [['c/1'], 0],
    ]);
    expect(keeper.allGranted).toBe(false);
    expect(events[0]?.kind).toBe('refused');
    await scheduler.advance(4000); // attempts at 0.5, 1.5 and 3.5 s: the last one past the bound
    // Nobody waits for these: the transport is told, and the session ends with that error.
    expect(failures.length).toBeGreaterThan(0); // one per SUBSCRIBE given up; the transport keeps the first
    expect(new Set(failures.map((f) => f.code))).toEqual(new Set(['subscription_refused']));
  });

  it('recovers when a refusing node comes back within the bound (a cluster after a node died)', async () => {
    const { keeper, link, scheduler, failures } = setUp();
    await keeper.subscribe(['m/1'], 1);
    link.answers = [() => 0x80, () => 0x80];
    keeper.reconnected();
    await scheduler.advance(0);
    await scheduler.advance(0.5e3 + 1e3);
    expect(keeper.allGranted).toBe(true);
    expect(failures).toEqual([]);
  });

  it('waits through a dropped connection: the reconnection asks again; a forgotten filter is not asked for', async () => {
    const { keeper, link, scheduler } = setUp();
    link.connected = false;
    const done = state(keeper.subscribe(['m/1', 'm/2'], 1));
    await scheduler.advance(1000);
    expect(link.sent).toHaveLength(0);
    keeper.forget(['m/2']);
    link.connected = true;
    keeper.reconnected();
    await scheduler.advance(0);
    expect(link.sent.map((s) => s.filters)).toEqual([['m/1']]);
    expect(done()).toBe('resolved');
  });

  it('says connection_lost when the connection stays down past the bound', async () => {
    const { keeper, link, scheduler } = setUp(4000);
    link.connected = false;
    const done = state(keeper.subscribe(['m/1'], 1));
    await scheduler.advance(4000);
    expect((done() as ConnectionError).code).toBe('connection_lost');
  });
});
