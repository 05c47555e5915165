import { describe, expect, it } from 'vitest';
import { injectConfig } from '../../src/cli/commands/display-server.js';
import { readConfig } from '../../src/display/page-config.js';

describe('the display page settings', () => {
  it('takes what mqimg display wrote, and URL parameters over it', () => {
    const embedded = { url: 'ws://10.0.0.2:9001', topic: 'cam/1', fit: 'contain' as const };
    expect(readConfig('', embedded)).toMatchObject({
      url: 'ws://10.0.0.2:9001',
      topic: 'cam/1',
      fit: 'contain',
    });
    expect(readConfig('?topic=cam/2&fit=cover&debug', embedded)).toMatchObject({
      url: 'ws://10.0.0.2:9001',
      topic: 'cam/2',
      fit: 'cover',
      debug: true,
    });
    const trust = { '0123456789abcdef': Buffer.alloc(32, 7).toString('base64') };
    const secret = Buffer.alloc(32, 9).toString('base64');
    const read = readConfig('', { ...embedded, trust, secret });
    expect('problem' in read).toBe(false);
    if (!('problem' in read)) {
      expect([...(read.trust?.get('0123456789abcdef') ?? [])]).toEqual(Array(32).fill(7));
      expect(read.secret?.length).toBe(32);
    }
  });

  it('works hosted anywhere with ?url= and ?topic=, and says what is missing or wrong', () => {
    expect(readConfig('?url=wss://b.example/mqtt&topic=cam/%2B', {})).toMatchObject({
      url: 'wss://b.example/mqtt',
      topic: 'cam/+',
    });
    expect(readConfig('', {})).toEqual({ problem: expect.stringMatching(/broker's WebSocket URL/) });
    expect(readConfig('?url=mqtt://b:1883&topic=x', {})).toEqual({
      problem: expect.stringMatching(/got mqtt:/),
    });
    expect(readConfig('?url=ws://b:9001', {})).toEqual({ problem: expect.stringMatching(/topic/) });
    expect(readConfig('?url=ws://b:9001&topic=a/%23/b', {})).toEqual({
      problem: expect.stringMatching(/invalid topic/),
    });
    expect(readConfig('?url=ws://b:9001&topic=a&fit=stretch', {})).toEqual({
      problem: expect.stringMatching(/fit/),
    });
  });

  it('never takes the encryption secret (or the broker password) from the URL', () => {
    expect(readConfig('?url=ws://b:9001&topic=a&secret=AAAA', {})).toEqual({
      problem: expect.stringMatching(/must not be given in the URL/),
    });
    expect(readConfig('?url=ws://b:9001&topic=a&password=hunter2', {})).toMatchObject({
      password: undefined,
    });
  });

  it('sends the configured credentials only to the configured broker, never to one a ?url= names', () => {
    const embedded = {
      url: 'ws://display.local:9001',
      topic: 'cam/1',
      username: 'alice',
      password: 's3cret',
    };
    expect(readConfig('', embedded)).toMatchObject({ username: 'alice', password: 's3cret' });
    expect(readConfig('?url=ws://display.local:9001/', embedded)).toMatchObject({ password: 's3cret' });
    expect(readConfig('?url=ws://elsewhere:9001', embedded)).toMatchObject({
      url: 'ws://elsewhere:9001',
      username: undefined,
      password: undefined,
    });
    expect(readConfig('?url=wss://display.local:9001', embedded)).toMatchObject({ password: undefined });
  });

  it('writes the settings into the page so that no value can close its script element', () => {
    const html = '<head><script id="mqimg-config" type="application/json">{}</script></head>';
    const out = injectConfig(html, { url: 'ws://b:9001', topic: '</script><script>alert(1)</script>' });
    expect(out).not.toContain('</script><script>');
    const json = /<script id="mqimg-config" type="application\/json">(.*)<\/script>/.exec(out)?.[1] ?? '';
    expect(JSON.parse(json)).toEqual({ url: 'ws://b:9001', topic: '</script><script>alert(1)</script>' });
    expect(() => injectConfig('<html></html>', {})).toThrow(/lacks its mqimg-config/);
  });
});
