import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  endedByDeadline,
  isRetryable,
  MIN_ATTEMPT_MS,
  runWithRetry,
  type AttemptOutcome,
  type FailureFacts,
} from '../../lib/core/retry-policy';
import { FakeClock } from '../support/fake-clock';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };
const fail = (code: string, statusCode: number | undefined): AttemptOutcome<string, FailureFacts> => ({ ok: false, failure: { code, statusCode } });

describe('retry policy', () => {
  it.each([
    ['no answer (network)', 'ECONNRESET', undefined, true],
    ['timeout', 'RequestTimeout', undefined, true],
    ['500', 'InternalError', 500, true],
    ['503', 'ServiceUnavailable', 503, true],
    ['429', 'Throttling', 429, true],
    ['400 Throttling.User', 'Throttling.User', 400, true],
    ['404 NotExist.Script', 'NotExist.Script', 404, false],
    ['400 InvalidParameter', 'InvalidParameter', 400, false],
    ['403 Forbidden.RAM', 'Forbidden.RAM', 403, false],
    ['400 SignatureDoesNotMatch', 'SignatureDoesNotMatch', 400, false],
  ])('%s → retryable %s', (_name, code, statusCode, expected) => {
    expect(isRetryable({ code, statusCode })).toBe(expected);
  });

  it('backoff is full jitter under an exponential ceiling capped at maxDelayMs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, r) => {
        const delay = backoffDelayMs(retry, policy, () => r);
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.max(ceiling, 1));
        expect(delay).toBe(Math.floor(r * ceiling));
      }),
    );
  });

  it('retries a retryable failure until success, sleeping the jittered backoff', async () => {
    const clock = new FakeClock(0, 0.5);
    const outcomes = [fail('InternalError', 500), fail('ECONNRESET', undefined), { ok: true as const, value: 'done' }];
    const run = await runWithRetry(async () => outcomes.shift()!, policy, clock, 60_000);
    expect(run).toEqual({ outcome: { ok: true, value: 'done' }, attempts: 3, deadlineReached: false });
    expect(clock.sleeps).toEqual([50, 100]);
  });

  it('never retries a non-retryable 4xx', async () => {
    let calls = 0;
    const run = await runWithRetry(async () => (calls++, fail('NotExist.Script', 404)), policy, new FakeClock(0), 60_000);
    expect(calls).toBe(1);
    expect(run.attempts).toBe(1);
    expect(run.deadlineReached).toBe(false);
  });

  it('stops after maxAttempts', async () => {
    let calls = 0;
    const run = await runWithRetry(async () => (calls++, fail('InternalError', 500)), policy, new FakeClock(0), 600_000);
    expect(calls).toBe(policy.maxAttempts);
    expect(run.deadlineReached).toBe(false);
  });

  it('does not sleep past the deadline: it stops and says the deadline ended it', async () => {
    const clock = new FakeClock(0, 0.99);
    let calls = 0;
    const run = await runWithRetry(async () => (calls++, clock.advance(40), fail('InternalError', 500)), policy, clock, 250);
    // attempt 1 ends at 40, sleeps 99 → 139; attempt 2 ends at 179, and its backoff (198) would end past the deadline.
    expect(calls).toBe(2);
    expect(run.deadlineReached).toBe(true);
    expect(run.delayPastDeadlineMs).toBe(198);
    expect(clock.now).toBeLessThanOrEqual(250);
  });

  it(`starts no attempt with less than ${MIN_ATTEMPT_MS} ms left: its answer could not come back in time`, async () => {
    const clock = new FakeClock(0, 0);
    let calls = 0;
    const run = await runWithRetry(async () => (calls++, clock.advance(160), fail('InternalError', 500)), { ...policy, baseDelayMs: 1 }, clock, 200);
    expect(calls).toBe(1);
    expect(run).toMatchObject({ attempts: 1, deadlineReached: true });
  });

  it('gives each attempt only the time left before the deadline', async () => {
    const clock = new FakeClock(1_000, 0);
    const remaining: number[] = [];
    await runWithRetry(async (ms) => (remaining.push(ms), clock.advance(300), fail('InternalError', 500)), { ...policy, baseDelayMs: 1 }, clock, 2_000);
    expect(remaining[0]).toBe(1_000);
    expect(remaining[1]).toBe(700);
    expect(remaining.filter((ms) => ms <= 0)).toEqual([]);
  });

  it('makes no attempt when the deadline has already passed', async () => {
    let calls = 0;
    const run = await runWithRetry(async () => (calls++, fail('x', 500)), policy, new FakeClock(5_000), 5_000);
    expect(calls).toBe(0);
    expect(run).toEqual({ outcome: undefined, attempts: 0, deadlineReached: true });
  });
});

describe('per-failure retry-after and retryability', () => {
  const withFacts = (facts: Partial<FailureFacts>, statusCode = 503): AttemptOutcome<string, FailureFacts> => ({
    ok: false,
    failure: { code: 'ServiceUnavailable', statusCode, ...facts },
  });
  const done: AttemptOutcome<string, FailureFacts> = { ok: true, value: 'done' };

  it('waits the failure\'s retryAfterMs instead of the jittered backoff, even beyond maxDelayMs', async () => {
    const clock = new FakeClock(0, 0.5);
    const outcomes = [withFacts({ retryAfterMs: 7_000 }), withFacts({}), done];
    const run = await runWithRetry(async () => outcomes.shift()!, policy, clock, 60_000);
    // 7 000 asked (policy.maxDelayMs is 1 000), then the backoff of retry 2: 0.5 × 200.
    expect(clock.sleeps).toEqual([7_000, 100]);
    expect(run).toEqual({ outcome: done, attempts: 3, deadlineReached: false });
  });

  it('honours a retryAfterMs of 0 as "now", not as "none given"', async () => {
    const clock = new FakeClock(0, 0.5);
    const outcomes = [withFacts({ retryAfterMs: 0 }), done];
    await runWithRetry(async () => outcomes.shift()!, policy, clock, 60_000);
    expect(clock.sleeps).toEqual([0]);
  });

  it('falls back to the backoff for a retryAfterMs that is negative or not a number', async () => {
    for (const retryAfterMs of [-5, Number.NaN]) {
      const clock = new FakeClock(0, 0.5);
      const outcomes = [withFacts({ retryAfterMs }), done];
      await runWithRetry(async () => outcomes.shift()!, policy, clock, 60_000);
      expect({ retryAfterMs, sleeps: clock.sleeps }).toEqual({ retryAfterMs, sleeps: [50] });
    }
  });

  it('never waits a retryAfterMs that would leave less than MIN_ATTEMPT_MS before the deadline', async () => {
    const fits = new FakeClock(0, 0.5);
    let calls = 0;
    const ok = await runWithRetry(async () => (calls++ === 0 ? withFacts({ retryAfterMs: 1_000 - MIN_ATTEMPT_MS }) : done), policy, fits, 1_000);
    expect(ok).toMatchObject({ outcome: done, attempts: 2 });
    expect(fits.sleeps).toEqual([1_000 - MIN_ATTEMPT_MS]);

    const tooLate = new FakeClock(0, 0.5);
    calls = 0;
    const run = await runWithRetry(async () => (calls++, withFacts({ retryAfterMs: 1_000 - MIN_ATTEMPT_MS + 1 })), policy, tooLate, 1_000);
    expect(calls).toBe(1);
    expect(tooLate.sleeps).toEqual([]);
    expect(run).toMatchObject({ attempts: 1, deadlineReached: true, delayPastDeadlineMs: 1_000 - MIN_ATTEMPT_MS + 1 });
    expect(endedByDeadline(run)).toBe(true);
  });

  it('reports delayPastDeadlineMs only when the wait, not the attempt budget or a refusal, ended the run', async () => {
    const exhausted = await runWithRetry(async () => withFacts({ retryAfterMs: 10 }), policy, new FakeClock(0), 60_000);
    expect(exhausted.attempts).toBe(policy.maxAttempts);
    expect(exhausted.delayPastDeadlineMs).toBeUndefined();
    const refused = await runWithRetry(async () => withFacts({ retryAfterMs: 120_000, retryable: false }), policy, new FakeClock(0), 60_000);
    expect(refused.attempts).toBe(1);
    expect(refused.delayPastDeadlineMs).toBeUndefined();
  });

  it('lets a failure\'s own retryable verdict override the code/status rule, both ways', async () => {
    expect(isRetryable({ code: 'InternalError', statusCode: 500, retryable: false })).toBe(false);
    expect(isRetryable({ code: 'ECONNRESET', statusCode: undefined, retryable: false })).toBe(false);
    expect(isRetryable({ code: 'NotExist.Script', statusCode: 404, retryable: true })).toBe(true);

    let calls = 0;
    const final = await runWithRetry(async () => (calls++, withFacts({ retryable: false }, 500)), policy, new FakeClock(0), 60_000);
    expect(calls).toBe(1);
    expect(final).toMatchObject({ attempts: 1, deadlineReached: false });

    const clock = new FakeClock(0, 0.5);
    const outcomes = [withFacts({ retryable: true }, 404), done];
    const retried = await runWithRetry(async () => outcomes.shift()!, policy, clock, 60_000);
    expect(retried).toMatchObject({ outcome: done, attempts: 2 });
    expect(clock.sleeps).toEqual([50]);
  });

  it('does not call a run ended by the deadline a deadline failure when its last failure is final by its own verdict', async () => {
    const clock = new FakeClock(0, 0.5);
    const run = await runWithRetry(async () => (clock.advance(2_000), withFacts({ retryable: false }, 503)), policy, clock, 1_000);
    expect(run).toMatchObject({ attempts: 1, deadlineReached: true });
    expect(endedByDeadline(run)).toBe(false);
    const other = new FakeClock(0, 0.5);
    const same = await runWithRetry(async () => (other.advance(2_000), withFacts({}, 503)), policy, other, 1_000);
    expect(same).toMatchObject({ attempts: 1, deadlineReached: true });
    expect(endedByDeadline(same)).toBe(true);
  });
});
