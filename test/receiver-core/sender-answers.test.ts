import { describe, expect, it } from 'vitest';
import type { Status } from '../../src/protocol/status/status.js';
import {
  FINAL_REPEAT_MS,
  MAX_FINISHED,
  SenderAnswers,
  WANT_MANIFEST_MS,
} from '../../src/receiver-core/sender-answers.js';

const done: Status = { rx: 'r1', state: 'failed', reason: 'timeout' };

describe('SenderAnswers: what a receiver says about transfers it is not receiving', () => {
  it('remembers at most MAX_FINISHED finished transfers, forgetting the oldest one at a time', () => {
    const answers = new SenderAnswers();
    for (let i = 0; i <= MAX_FINISHED; i++) answers.finish(`t${i}`, 'cam/1', done, i);
    expect(answers.isFinished('t0')).toBe(false);
    expect(answers.isFinished('t1')).toBe(true);
    expect(answers.isFinished(`t${MAX_FINISHED}`)).toBe(true);
    answers.finish('next', 'cam/1', done, 0);
    expect(answers.isFinished('t1')).toBe(false);
    expect(answers.isFinished('t2')).toBe(true);
  });

  it('repeats a final status at most every FINAL_REPEAT_MS, and at once for a manifest', () => {
    const answers = new SenderAnswers();
    answers.finish('a', 'cam/1', done, 1000);
    expect(answers.repeatFinal('a', 1000 + FINAL_REPEAT_MS - 1, false)).toBeUndefined();
    expect(answers.repeatFinal('a', 1000 + FINAL_REPEAT_MS - 1, true)?.status).toEqual(done);
    expect(answers.repeatFinal('a', 1000 + 2 * FINAL_REPEAT_MS, false)?.topic).toBe('cam/1');
    expect(answers.repeatFinal('unknown', 5000, true)).toBeUndefined();
  });

  it('asks for an unknown manifest at most every WANT_MANIFEST_MS, for at most 64 ids at once', () => {
    const answers = new SenderAnswers();
    expect(answers.askForManifest('x', 0)).toBe(true);
    expect(answers.askForManifest('x', WANT_MANIFEST_MS - 1)).toBe(false);
    expect(answers.askForManifest('x', WANT_MANIFEST_MS)).toBe(true);
    for (let i = 0; i < 63; i++) expect(answers.askForManifest(`id${i}`, 0)).toBe(true);
    expect(answers.askForManifest('one-too-many', 0)).toBe(false);
    answers.known('x');
    expect(answers.askForManifest('one-too-many', 0)).toBe(true);
  });
});
