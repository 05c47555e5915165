import { describe, expect, it } from 'vitest';
import { HearingProbe, type ProbeLink } from '../../src/transport/hearing-probe.js';
import type { MessageHandler } from '../../src/transport/message-transport.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';

const TOPIC = 'cam/mqimg/probe/0123456789abcdef';

/** A connection that echoes publishes on the probe topic back while `echoes` is true. */
class FakeLink implements ProbeLink {
  echoes = true;
  connected = true;
  readonly published: string[] = [];
  renewed = 0;
  reconnected = 0;
  private readonly handlers = new Set<MessageHandler>();
  private readonly reconnectHandlers = new Set<() => void>();

  publish(topic: string, payload: string): Promise<void> {
    this.published.push(payload);
    if (this.echoes) queueMicrotask(() => this.deliver(topic, payload));
    return Promise.resolve();
  }
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  renew(): void {
    this.renewed++;
  }
  reconnect(): void {
    this.reconnected++;
    for (const handler of this.reconnectHandlers) handler();
  }
  connectedNow(): boolean {
    return this.connected;
  }
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }
  deliver(topic: string, payload: string): void {
    for (const handler of this.handlers) handler(topic, new TextEncoder().encode(payload));
  }
}

async function setUp() {
  const scheduler = new FakeScheduler();
  const link = new FakeLink();
  const events: string[] = [];
  const probe = new HearingProbe(link, {
    topic: TOPIC,
    idleMs: 60_000,
    answerMs: 10_000,
    clock: scheduler.clock,
    scheduler,
    onEvent: (event, detail) => events.push(`${event}: ${detail}`),
  });
  await probe.start();
  await scheduler.advance(0); // the first probe, which shows that probes come back here
  return { scheduler, link, events, probe };
}

describe('HearingProbe: a receiver that hears nothing proves that it still hears', () => {
  it('probes only after 60 s without any message, and stays quiet while probes come back', async () => {
    const { scheduler, link, events } = await setUp();
    expect(link.published).toHaveLength(1);
    await scheduler.advance(30_000);
    link.deliver('cam/1/mqimg/0123456789abcdef/m', '{}'); // traffic: not idle
    await scheduler.advance(59_000);
    expect(link.published).toHaveLength(1);
    await scheduler.advance(2_000);
    expect(link.published).toHaveLength(2);
    await scheduler.advance(120_000);
    expect(link.published).toHaveLength(4);
    expect(events).toEqual([]);
  });

  it('a lost probe: subscribes again, probes at once; lost again: reconnects; then says deaf, backing off', async () => {
    const { scheduler, link, events } = await setUp();
    link.echoes = false;
    await scheduler.advance(60_000 + 10_000);
    expect(link.renewed).toBe(1);
    expect(events[0]).toMatch(
      /^probe_missing: heard nothing for 60 s, and a probe to itself on cam\/mqimg\/probe\/\w+ did not come back within 10 s: subscribing again$/,
    );
    await scheduler.advance(13_000); // the next probe goes out at the next check (every 2.5 s), lost 10 s later
    expect(link.reconnected).toBe(1);
    expect(events[1]).toMatch(/after subscribing again: reconnecting$/);
    await scheduler.advance(25_000);
    expect(link.reconnected).toBe(2);
    expect(events[2]).toMatch(/still do not come back \(3 lost\).*next probe in 120 s$/);
    link.echoes = true;
    await scheduler.advance(130_000);
    expect(events.at(-1)).toMatch(/^probe_back: /);
  });

  it('never probes while disconnected (the reconnection checks every SUBACK itself)', async () => {
    const { scheduler, link } = await setUp();
    link.connected = false;
    await scheduler.advance(300_000);
    expect(link.published).toHaveLength(1);
  });

  it('turns itself off when even the first probe does not come back (an ACL without the probe topic)', async () => {
    const scheduler = new FakeScheduler();
    const link = new FakeLink();
    link.echoes = false;
    const events: string[] = [];
    const probe = new HearingProbe(link, {
      topic: TOPIC,
      clock: scheduler.clock,
      scheduler,
      onEvent: (event) => events.push(event),
    });
    await probe.start();
    await scheduler.advance(600_000);
    expect(events).toEqual(['probe_unusable']);
    expect(link.published).toHaveLength(1);
    expect(link.reconnected).toBe(0);
  });
});
