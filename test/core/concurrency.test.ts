import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLimiter, mapWithConcurrency } from '../../lib/core/concurrency';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('bounded concurrency', () => {
  it('never runs more than the limit, even when callers arrive as slots free up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }), async (limit, delays) => {
        const run = createLimiter(limit);
        let active = 0;
        let peak = 0;
        const task = async (ticks: number) => {
          active += 1;
          peak = Math.max(peak, active);
          for (let i = 0; i < ticks; i++) await tick();
          active -= 1;
        };
        // Half start now, half join while the first ones finish.
        const first = delays.slice(0, delays.length / 2).map((d) => run(() => task(d)));
        await tick();
        const second = delays.slice(delays.length / 2).map((d) => run(() => task(d)));
        await Promise.all([...first, ...second]);
        expect(peak).toBeLessThanOrEqual(limit);
        expect(active).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps input order and reaches full parallelism', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 3, async (n) => {
      active += 1;
      peak = Math.max(peak, active);
      for (let i = 0; i < n; i++) await tick();
      active -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(3);
  });

  it('a failing task frees its slot and the others still run', async () => {
    const run = createLimiter(1);
    const failed = run(async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    await expect(run(async () => 'after')).resolves.toBe('after');
  });

  it('a shared limiter bounds two concurrent maps together', async () => {
    const run = createLimiter(2);
    let active = 0;
    let peak = 0;
    const work = async () => {
      active += 1;
      peak = Math.max(peak, active);
      await tick();
      await tick();
      active -= 1;
    };
    await Promise.all([mapWithConcurrency([1, 2, 3], run, work), mapWithConcurrency([1, 2, 3], run, work)]);
    expect(peak).toBe(2);
  });
});
