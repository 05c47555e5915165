import { describe, expect, it } from 'vitest';
import {
  chunkTopic,
  filterProblem,
  manifestTopic,
  parseTopic,
  receiverSubscriptions,
  sendTopicProblem,
  statusTopic,
} from '../../../src/protocol/wire/topics.js';

const id = '0123456789abcdef';

/** MQTT topic matching (spec 4.7), written independently of the code under test. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe('topics', () => {
  it('builds the documented layout', () => {
    expect(manifestTopic('cam/1', id)).toBe(`cam/1/mqimg/${id}/m`);
    expect(chunkTopic('cam/1', id, 42)).toBe(`cam/1/mqimg/${id}/c/42`);
    expect(statusTopic('cam/1', id)).toBe(`cam/1/mqimg/${id}/r`);
  });

  it('parses what it builds, including topics that themselves contain "mqimg"', () => {
    for (const topic of ['cam/1', 'a', 'mqimg/x', 'a/mqimg/b/c']) {
      expect(parseTopic(manifestTopic(topic, id))).toEqual({ kind: 'manifest', topic, id });
      expect(parseTopic(chunkTopic(topic, id, 7))).toEqual({ kind: 'chunk', topic, id, index: 7 });
      expect(parseTopic(statusTopic(topic, id))).toEqual({ kind: 'status', topic, id });
    }
  });

  it.each([
    'cam/1',
    `mqimg/${id}/m`,
    `cam/mqimg/${id.toUpperCase()}/m`,
    `cam/mqimg/${id}/c/-1`,
    `cam/mqimg/${id}/c/01`,
    `cam/mqimg/${id}/c/1e3`,
    `cam/mqimg/${id}/c/9999999999`,
    `cam/mqimg/${id}/x`,
    `cam/other/${id}/m`,
  ])('ignores %s', (name) => {
    expect(parseTopic(name)).toBeUndefined();
  });

  it('refuses sender topics with wildcards, NUL, empty levels or $', () => {
    for (const bad of [
      '',
      'cam/+',
      'cam/#',
      'a\u0000b',
      '/cam',
      'cam/',
      'a//b',
      '$SYS/x',
      'a/b/c/d/e/f/g/h/i',
    ]) {
      expect(sendTopicProblem(bad), bad).toBeTypeOf('string');
    }
    expect(sendTopicProblem('cam/1')).toBeUndefined();
  });

  it('refuses malformed filters', () => {
    for (const bad of ['', 'a/#/b', 'a+', 'a/b#', 'a\u0000'])
      expect(filterProblem(bad), bad).toBeTypeOf('string');
    for (const good of ['#', 'cam/+', 'cam/#', '+/+/x']) expect(filterProblem(good), good).toBeUndefined();
  });

  it('subscribes, by default, to mqimg messages on topics of every allowed depth and nothing else', () => {
    const { manifests, chunks } = receiverSubscriptions();
    const subs = [...manifests, ...chunks];
    const hits = (name: string) => subs.some((f) => matches(f, name));
    for (const topic of ['a', 'cam/1', 'a/b/c/d/e/f/g/h']) {
      expect(hits(manifestTopic(topic, id))).toBe(true);
      expect(hits(chunkTopic(topic, id, 3))).toBe(true);
      expect(hits(statusTopic(topic, id))).toBe(false);
    }
    expect(hits('cam/1')).toBe(false);
    expect(hits('frigate/cam/person/snapshot')).toBe(false);
    expect(subs.every((f) => !f.includes('#'))).toBe(true);
  });

  it('narrows to the filter it is given', () => {
    const narrowed = receiverSubscriptions('cam/+');
    const subs = [...narrowed.manifests, ...narrowed.chunks];
    const hits = (name: string) => subs.some((f) => matches(f, name));
    expect(hits(manifestTopic('cam/7', id))).toBe(true);
    expect(hits(manifestTopic('other/7', id))).toBe(false);
    expect(hits(manifestTopic('cam/7/x', id))).toBe(false);
    const deep = receiverSubscriptions('cam/#').chunks;
    expect(deep.some((f) => matches(f, chunkTopic('cam/a/b', id, 0)))).toBe(true);
    expect(deep.some((f) => matches(f, chunkTopic('cam', id, 0)))).toBe(true);
  });
});
