// Waiting for another invocation's work means asking the store again: promptly at first, then
// no more than twice a second, and never past the moment the waiter must answer by.
import { describe, expect, it } from 'vitest';
import { pollUntil, secondsUntil } from '../../lib/idempotency/wait';
import { FakeClock } from '../support/fake-clock';

/** A check that finds it on its `onAsk`-th call (never, without one), counting the calls. */
function asker(onAsk?: number) {
  const state = { asks: 0 };
  const check = async () => (++state.asks === onAsk ? 'found' : undefined);
  return { state, check };
}

describe('pollUntil', () => {
  it('asks at once, and answers without a pause when the first ask finds it', async () => {
    const clock = new FakeClock();
    const { state, check } = asker(1);
    expect(await pollUntil(clock, clock.now + 5_000, check)).toBe('found');
    expect(state.asks).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('stops asking as soon as an ask finds it', async () => {
    const clock = new FakeClock();
    const { state, check } = asker(3);
    expect(await pollUntil(clock, clock.now + 5_000, check)).toBe('found');
    expect(state.asks).toBe(3);
    expect(clock.sleeps).toEqual([50, 100]);
  });

  it('asks again after 50 ms, then doubles the pause up to 500 ms, and gives up when the next pause would end past the bound', async () => {
    const clock = new FakeClock();
    const startMs = clock.now;
    const { state, check } = asker();
    expect(await pollUntil(clock, startMs + 3_000, check)).toBeUndefined();
    expect(clock.sleeps).toEqual([50, 100, 200, 400, 500, 500, 500, 500]);
    expect(state.asks).toBe(clock.sleeps.length + 1);
    expect(clock.now).toBeLessThanOrEqual(startMs + 3_000);
  });

  it('takes a pause that ends exactly at the bound, and none that would end 1 ms past it', async () => {
    const exact = new FakeClock();
    await pollUntil(exact, exact.now + 50, asker().check);
    expect(exact.sleeps).toEqual([50]);
    const short = new FakeClock();
    const { state, check } = asker();
    expect(await pollUntil(short, short.now + 49, check)).toBeUndefined();
    expect(short.sleeps).toEqual([]);
    expect(state.asks).toBe(1);
  });

  it('asks once, and waits not at all, when the bound is already past', async () => {
    const clock = new FakeClock();
    const { state, check } = asker();
    expect(await pollUntil(clock, clock.now - 1_000, check)).toBeUndefined();
    expect(state.asks).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('secondsUntil (a retry-after)', () => {
  it('rounds up to whole seconds, so a retry never comes before the moment', () => {
    expect(secondsUntil(10_000 + 1, 10_000)).toBe(1);
    expect(secondsUntil(10_000 + 1_000, 10_000)).toBe(1);
    expect(secondsUntil(10_000 + 1_001, 10_000)).toBe(2);
    expect(secondsUntil(10_000 + 29_500, 10_000)).toBe(30);
  });

  it('is at least 1 when the moment is now or past: retry-after: 0 would invite a retry storm', () => {
    expect(secondsUntil(10_000, 10_000)).toBe(1);
    expect(secondsUntil(4_000, 10_000)).toBe(1);
  });
});
