import { describe, expect, it } from 'vitest';
import { normalizeBrokerUrl, withHostAndPort } from '../../src/cli/options/broker-url.js';
import { UsageError } from '../../src/errors.js';

describe('normalizeBrokerUrl (--url as people write it)', () => {
  it.each([
    ['localhost', 'mqtt://localhost:1883'],
    ['127.0.0.1:1884', 'mqtt://127.0.0.1:1884'],
    ['[::1]:1883', 'mqtt://[::1]:1883'],
    ['broker.lan', 'mqtt://broker.lan:1883'],
    ['mqtt://broker.lan:1883', 'mqtt://broker.lan:1883'],
    ['mqtts://broker.lan:8883', 'mqtts://broker.lan:8883'],
    ['ws://broker.lan:8080/mqtt', 'ws://broker.lan:8080/mqtt'],
    ['WSS://broker.lan/mqtt', 'wss://broker.lan/mqtt'],
  ])('takes %s as %s', (input, url) => {
    expect(normalizeBrokerUrl(input)).toBe(url);
  });

  it.each([
    ['http://broker.lan:1883', /not http:\/\/; use mqtt:\/\/, mqtts:\/\/ \(TLS\), ws:\/\/ or wss:\/\//],
    ['tcp://broker.lan', /not tcp:\/\//],
    ['mqtt://broker.lan:1883/cam/1', /has no path; give the topic with --topic/],
    ['broker.lan:99999', /not a valid host or URL/],
    ['', /empty/],
    ['host/with/path', /expected a host, host:port or a URL/],
  ])('refuses %s with a UsageError', (input, message) => {
    const error = (() => {
      try {
        normalizeBrokerUrl(input);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('withHostAndPort (-h and -p)', () => {
  it('replaces the host, the port, or both, and keeps the URL when neither is given', () => {
    expect(withHostAndPort('mqtt://localhost:1883', 'broker.lan', undefined)).toBe('mqtt://broker.lan:1883');
    expect(withHostAndPort('mqtt://localhost:1883', undefined, 1884)).toBe('mqtt://localhost:1884');
    expect(withHostAndPort('mqtts://localhost', '::1', undefined)).toBe('mqtts://[::1]:8883');
    expect(withHostAndPort('ws://localhost:8080/mqtt', 'b', 9001)).toBe('ws://b:9001/mqtt');
    expect(withHostAndPort('mqtt://localhost:1883', undefined, undefined)).toBe('mqtt://localhost:1883');
  });
});
