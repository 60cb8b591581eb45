// The moves of a key's record (lib/idempotency/once.ts, ON_CLAIM and ON_END) one at a time, over
// the memory store on a clock the test moves: what each move writes, when a claim lapses, what a
// duplicate lets go of, and what a claim whose answer was lost gives back.
import { describe, expect, it } from 'vitest';
import { IdempotencyStoreUnavailableError } from '../../lib/idempotency/errors';
import { createMemoryStore } from '../../lib/idempotency/memory-store';
import { runOnce, stateOf, type KeyRecord, type OnceOptions } from '../../lib/idempotency/once';
import { storeOf, type IdempotencyStore, type StoreOp } from '../../lib/idempotency/store';
import { FakeClock } from '../support/fake-clock';

const TTL_MS = 60_000;

function setup() {
  const clock = new FakeClock(1_000_000);
  const store = createMemoryStore(clock);
  const lost: unknown[] = [];
  const options = (extra: Partial<OnceOptions> = {}): OnceOptions => ({
    store,
    clock,
    key: 'k',
    fingerprint: 'fp',
    claimUntilMs: clock.now + 10_000,
    waitUntilMs: clock.now + 1_000,
    ttlMs: TTL_MS,
    onLostOutcome: (error) => lost.push(error),
    ...extra,
  });
  return { clock, store, lost, options, read: async () => (await store.read('k')) as KeyRecord | undefined };
}

describe('the state a record is in', () => {
  const record = (fields: Partial<KeyRecord>): KeyRecord => ({ owner: 'o', status: 'IN_PROGRESS', fingerprint: 'fp', expiresAtMs: 0, ...fields });

  it('is ABSENT without a record, and the record\'s own status when it is not a claim', () => {
    expect(stateOf(undefined, 0)).toBe('ABSENT');
    expect(stateOf(record({ status: 'COMPLETED' }), 0)).toBe('COMPLETED');
    expect(stateOf(record({ status: 'UNFINISHED' }), 0)).toBe('UNFINISHED');
  });

  it('is LAPSED from the claim\'s claimUntilMs on, IN_PROGRESS the millisecond before', () => {
    expect(stateOf(record({ claimUntilMs: 500 }), 499)).toBe('IN_PROGRESS');
    expect(stateOf(record({ claimUntilMs: 500 }), 500)).toBe('LAPSED');
    // A claim given back has no claimUntilMs: it is over.
    expect(stateOf(record({}), 0)).toBe('LAPSED');
  });
});

describe('what each move writes', () => {
  it('a claim: IN_PROGRESS, its owner, its life, reclaimable at its lapse, expiring after the TTL', async () => {
    const { options, read, clock } = setup();
    let during: KeyRecord | undefined;
    await runOnce(options(), async () => ((during = await read()), { value: 'v', keep: true }));
    expect(during).toMatchObject({ status: 'IN_PROGRESS', fingerprint: 'fp', claimedAtMs: 1_000_000, claimUntilMs: 1_010_000, reclaimableFromMs: 1_010_000, expiresAtMs: 1_000_000 + TTL_MS });
    expect(during!.carry).toBeUndefined();
    expect(during!.unsettled).toBeUndefined();
    expect(clock.now).toBe(1_000_000);
  });

  it('a final end: COMPLETED with the outcome, never reclaimable, expiring after the TTL', async () => {
    const { options, read, clock } = setup();
    await runOnce(options(), async () => (clock.advance(5), { value: 'done', keep: true }));
    const record = await read();
    expect(record).toMatchObject({ status: 'COMPLETED', outcome: 'done', expiresAtMs: 1_000_005 + TTL_MS });
    expect(record!.reclaimableFromMs).toBeUndefined();
    expect(record!.claimUntilMs).toBeUndefined();
  });

  it('a retryable end: UNFINISHED, reclaimable at once, its carry as JSON text, and no carry when there is none', async () => {
    const { options, read, clock } = setup();
    await runOnce(options(), async () => (clock.advance(7), { value: 'partial', keep: false, carry: { done: ['a'] } }));
    expect(await read()).toMatchObject({ status: 'UNFINISHED', reclaimableFromMs: 1_000_007, carry: '{"done":["a"]}', expiresAtMs: 1_000_007 + TTL_MS });
    const other = setup();
    await runOnce(other.options(), async () => ({ value: 'partial', keep: false }));
    expect(Object.keys((await other.read())!)).not.toContain('carry');
  });

  it('a throw: UNFINISHED with the carry it took over and its own life in the unsettled span; the error passes on', async () => {
    const { options, read, clock } = setup();
    await runOnce(options(), async () => ({ value: 'partial', keep: false, carry: 'kept' }));
    clock.advance(100);
    await expect(runOnce(options(), async () => (clock.advance(40), Promise.reject(new Error('crash'))))).rejects.toThrow('crash');
    expect(await read()).toMatchObject({ status: 'UNFINISHED', carry: '"kept"', reclaimableFromMs: 1_000_140, unsettled: { sinceMs: 1_000_100, untilMs: 1_000_140 } });
    // A throw with nothing carried leaves no carry either.
    const fresh = setup();
    await expect(runOnce(fresh.options(), async () => Promise.reject(new Error('crash')))).rejects.toThrow('crash');
    expect(Object.keys((await fresh.read())!)).not.toContain('carry');
  });

  it('an end whose claim was taken over in the meantime writes nothing, and says the outcome was lost', async () => {
    const { options, read, store, clock, lost } = setup();
    await runOnce(options(), async () => {
      clock.advance(10_000); // the claim lapses; another run takes the key over
      await store.claim('k', { owner: 'other', status: 'IN_PROGRESS', fingerprint: 'fp', claimUntilMs: clock.now + 10_000, reclaimableFromMs: clock.now + 10_000 }, TTL_MS, clock.now);
      return { value: 'late', keep: true };
    });
    expect((await read())!.owner).toBe('other');
    expect(lost).toHaveLength(1);
    expect(String(lost[0])).toMatch(/claim lapsed before the end of the run was stored/);
  });
});

describe('what a claim sent with others lets go of', () => {
  const lockOp = (owner: string, now: number): StoreOp => ({ op: 'claim', key: 'lock:s', record: { owner, reclaimableFromMs: now + 5_000 }, ttlMs: 5_000, nowMs: now });

  it('a duplicate that finds the key done releases the lock it claimed alongside, at once', async () => {
    const { options, store, clock } = setup();
    await runOnce(options(), async () => ({ value: 'done', keep: true }));
    const replay = await runOnce(options({ alongside: [lockOp('dup', clock.now)] }), async () => ({ value: 'never', keep: true }));
    expect(replay).toEqual({ replayed: true, value: 'done' });
    expect(await store.read('lock:s')).toBeUndefined();
  });

  it('a claim that wins hands the answers of what went with it to the work', async () => {
    const { options, clock } = setup();
    let seen: unknown;
    await runOnce(options({ alongside: [lockOp('mine', clock.now), { op: 'read', key: 'nothing' }] }), async (run) => ((seen = run.alongside), { value: 'v', keep: true }));
    expect(seen).toEqual([{ claimed: true }, undefined]);
  });

  it('without anything alongside, the work is told so', async () => {
    const { options } = setup();
    let seen: unknown = 'unset';
    await runOnce(options(), async (run) => ((seen = run.alongside), { value: 'v', keep: true }));
    expect(seen).toBeUndefined();
  });
});

describe('a claim whose answer was lost', () => {
  /** The store writes the first batch and loses its reply; `giveBacks` more batches fail before one goes through. */
  function lossy(store: IdempotencyStore, failures: { giveBacks: number; mayHaveApplied?: boolean }) {
    let first = true;
    const seen: string[][] = [];
    const wrapped = storeOf(async (ops) => {
      seen.push(ops.map((op) => op.op));
      if (first) {
        first = false;
        if (failures.mayHaveApplied !== false) await store.batch(ops);
        throw new IdempotencyStoreUnavailableError('lost (test)', { mayHaveApplied: failures.mayHaveApplied ?? true });
      }
      if (failures.giveBacks-- > 0) throw new IdempotencyStoreUnavailableError('still away (test)');
      return store.batch(ops);
    });
    return { wrapped, seen };
  }

  it('is given back, tried again while the store is away, so the next delivery is not told to wait', async () => {
    const { options, store } = setup();
    const { wrapped, seen } = lossy(store, { giveBacks: 2 });
    await expect(runOnce(options({ store: wrapped }), async () => ({ value: 'never', keep: true }))).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(seen).toEqual([['claim'], ['relinquish'], ['relinquish'], ['relinquish']]);
    expect(await store.read('k')).toBeUndefined();
    expect(await runOnce(options(), async () => ({ value: 'ran', keep: true }))).toEqual({ replayed: false, value: 'ran' });
  });

  it('is not given back when it was never sent: the failure passes on at once', async () => {
    const { options, store, clock } = setup();
    const { wrapped, seen } = lossy(store, { giveBacks: 0, mayHaveApplied: false });
    await expect(runOnce(options({ store: wrapped }), async () => ({ value: 'never', keep: true }))).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(seen).toEqual([['claim']]);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('the store and the table', () => {
  it('refuses to run when the store lets a claim take over what the table says to replay or wait on', async () => {
    const { options, clock } = setup();
    const broken = (status: 'COMPLETED' | 'IN_PROGRESS') =>
      storeOf(async (ops) => ops.map(() => ({ claimed: true, previous: { owner: 'x', status, fingerprint: 'fp', expiresAtMs: 0, claimUntilMs: clock.now + 1_000 } })));
    let worked = false;
    const work = async () => ((worked = true), { value: 'v', keep: true });
    await expect(runOnce(options({ store: broken('COMPLETED') }), work)).rejects.toThrow(/table says to replay/);
    await expect(runOnce(options({ store: broken('IN_PROGRESS') }), work)).rejects.toThrow(/table says to wait/);
    expect(worked).toBe(false);
  });
});
