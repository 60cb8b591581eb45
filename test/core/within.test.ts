import { describe, expect, it } from 'vitest';
import { within } from '../../lib/core/within';

describe('within', () => {
  it('settles as the work does when it is in time', async () => {
    await expect(within(Promise.resolve('done'), 1_000, () => new Error('late'))).resolves.toBe('done');
    await expect(within(Promise.reject(new Error('own')), 1_000, () => new Error('late'))).rejects.toThrow('own');
  });

  it('rejects with the timeout error once the time has passed, and calls it once', async () => {
    let calls = 0;
    const startMs = Date.now();
    const late = within(new Promise(() => {}), 30, () => {
      calls += 1;
      return new Error('late');
    });
    await expect(late).rejects.toThrow('late');
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(25);
    expect(calls).toBe(1);
  });
});
