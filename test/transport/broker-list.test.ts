import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/options/config-file.js';
import { splitUrls } from '../../src/cli/options/connection-options.js';
import { UsageError } from '../../src/errors.js';
import { BrokerList, brokerList, brokerListProblem } from '../../src/transport/broker-list.js';
import { tempDir } from '../helpers/files.js';

describe('a list of brokers to fail over between', () => {
  it('moves round robin and says where from and to only when the broker changed', () => {
    const brokers = new BrokerList(['mqtt://a:1883', 'mqtt://b:1883', 'mqtt://c:1883']);
    brokers.connectedAt(1);
    expect(brokers.current).toBe('mqtt://b:1883');
    expect(brokers.next()).toBe('mqtt://c:1883');
    expect(brokers.next()).toBe('mqtt://a:1883');
    expect(brokers.current).toBe('mqtt://b:1883'); // still trying
    expect(brokers.connected()).toEqual({ from: 'mqtt://b:1883', to: 'mqtt://a:1883' });
    expect(brokers.connected()).toBeUndefined(); // connected again to the same one
  });

  it('refuses what cannot work, in one line: no broker, an empty item, mixed schemes, a duplicate', () => {
    expect(brokerListProblem(['mqtt://a:1883', 'mqtt://b:1883'])).toBeUndefined();
    expect(brokerListProblem([])).toMatch(/no broker/);
    expect(brokerListProblem(['mqtt://a:1883', ' '])).toMatch(/empty broker URL/);
    expect(brokerListProblem(['mqtts://a:8883', 'mqtt://b:1883'])).toMatch(
      /mix mqtts:\/\/ and mqtt:\/\/: give every --url the same scheme/,
    );
    expect(brokerListProblem(['mqtt://a:1883', 'mqtt://a:1883'])).toMatch(/given twice/);
    expect(() => brokerList(['ws://a/mqtt', 'mqtt://b'])).toThrow(UsageError);
    expect(brokerList('mqtt://a:1883').urls).toEqual(['mqtt://a:1883']);
  });

  it('splits MQIMG_URL and --url values on commas, refusing empty items', () => {
    expect(splitUrls('mqtt://a:1883, mqtt://b:1883')).toEqual(['mqtt://a:1883', 'mqtt://b:1883']);
    expect(() => splitUrls('mqtt://a:1883,')).toThrow(/empty broker URL in the list/);
    expect(() => splitUrls('a,,b')).toThrow(UsageError);
  });

  it('takes a list of URLs as "url" in config.json', () => {
    const path = join(tempDir(), 'config.json');
    writeFileSync(path, JSON.stringify({ url: ['mqtt://node1:1883', 'mqtt://node2:1883'] }));
    expect(readConfig(path)?.url).toBe('mqtt://node1:1883,mqtt://node2:1883');
    writeFileSync(path, JSON.stringify({ url: [] }));
    expect(() => readConfig(path)).toThrow(/"url" must be a URL or a non-empty list of URLs/);
  });
});
