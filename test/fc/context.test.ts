import { describe, expect, it } from 'vitest';
import { timelineOf } from '../../lib/fc/timeline';

const fn = (timeout?: number) => ({ requestId: 'r', ...(timeout === undefined ? {} : { function: { timeout } }) });

describe('the invocation timeline', () => {
  it('answers by the start plus the function timeout, less min(1 s, 10 %), and ends at the timeout', () => {
    expect(timelineOf(0, fn(30))).toMatchObject({ answerByMs: 29_000, endMs: 30_000 });
    expect(timelineOf(0, fn(2))).toMatchObject({ answerByMs: 1_800, endMs: 2_000 });
  });

  it("assumes FC's 60 s default when the context has no timeout", () => {
    expect(timelineOf(1_000, fn()).answerByMs).toBe(60_000);
  });

  it('ends the work at the answer when nothing follows it', () => {
    expect(timelineOf(0, fn(30))).toMatchObject({ workEndMs: 29_000, callbacksEndMs: 29_000 });
  });

  it('keeps the callback timeout in reserve before the callbacks end, and a store round trip before the answer', () => {
    expect(timelineOf(0, fn(30), { callbackTimeoutMs: 2_000 })).toMatchObject({ workEndMs: 27_000, callbacksEndMs: 29_000 });
    expect(timelineOf(0, fn(10), { callbackTimeoutMs: 500, storeTimeoutMs: 900 })).toMatchObject({ workEndMs: 7_600, callbacksEndMs: 8_100, answerByMs: 9_000 });
  });

  it('caps the callback reserve at 10 % of the invocation, the store round trip at 20 %', () => {
    expect(timelineOf(0, fn(2), { callbackTimeoutMs: 5_000 }).workEndMs).toBe(1_620);
    expect(timelineOf(0, fn(2), { callbackTimeoutMs: 5_000, storeTimeoutMs: 5_000 })).toMatchObject({ callbacksEndMs: 1_440, workEndMs: 1_260 });
  });

  it('keeps a whole default store round trip (1 s) before the answer of a 10 s function', () => {
    expect(timelineOf(0, fn(10), { storeTimeoutMs: 1_000 })).toMatchObject({ callbacksEndMs: 8_000, answerByMs: 9_000 });
  });

  it('keeps every instant in order: work, callbacks, answer, end', () => {
    for (const timeout of [1, 2, 3, 10, 60, 600]) {
      const t = timelineOf(0, fn(timeout), { callbackTimeoutMs: 5_000, storeTimeoutMs: 10_000 });
      const instants = [t.startMs, t.workEndMs, t.callbacksEndMs, t.answerByMs, t.endMs];
      expect(instants).toEqual([...instants].sort((a, b) => a - b));
    }
  });
});
