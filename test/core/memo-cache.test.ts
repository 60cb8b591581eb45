import { describe, expect, it } from 'vitest';
import { MemoCache } from '../../lib/core/memo-cache';

describe('MemoCache', () => {
  it('forgets an entry once its time is up', () => {
    let now = 0;
    const cache = new MemoCache<string>(10, 1_000, () => now);
    cache.set('a', 'first');
    now = 999;
    expect(cache.get('a')).toBe('first');
    now = 1_000;
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops the oldest entry beyond its capacity; setting again makes an entry the newest', () => {
    const cache = new MemoCache<number>(2, 60_000, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3);
    cache.set('c', 4);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([3, undefined, 4]);
  });

  it('deletes on demand', () => {
    const cache = new MemoCache<number>(2, 60_000, () => 0);
    cache.set('a', 1);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });
});
