/** Runs tasks with at most `limit` in flight, first come first served. */
export type Limiter = <R>(task: () => Promise<R>) => Promise<R>;

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  // A finishing task hands its slot straight to the next waiter, so a newcomer can never slip in between.
  const acquire = (): Promise<void> | undefined => {
    if (active < limit) {
      active += 1;
      return undefined;
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return async (task) => {
    // A free slot is taken at once: awaiting nothing would still cost the task a turn of the queue.
    const wait = acquire();
    if (wait) await wait;
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/** Maps with at most `limit` calls in flight (or through a shared limiter), keeping input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number | Limiter, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (typeof limit !== 'number') return Promise.all(items.map((item, index) => limit(() => fn(item, index))));
  // `limit` workers each take the next item: thousands of items never wait as thousands of promises.
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
