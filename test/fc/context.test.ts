import { describe, expect, it } from 'vitest';
import { endOfWorkBeforeCallbackMs, invocationDeadlineMs } from '../../lib/fc/context';

describe('the invocation deadline', () => {
  it('is the start plus the function timeout, less min(1 s, 10 %)', () => {
    expect(invocationDeadlineMs(0, { requestId: 'r', function: { timeout: 30 } })).toBe(29_000);
    expect(invocationDeadlineMs(0, { requestId: 'r', function: { timeout: 2 } })).toBe(1_800);
  });

  it('assumes FC\'s 60 s default when the context has no timeout', () => {
    expect(invocationDeadlineMs(1_000, { requestId: 'r' })).toBe(60_000);
  });
});

describe('endOfWorkBeforeCallbackMs', () => {
  it('is the deadline when there is no callback to send', () => {
    expect(endOfWorkBeforeCallbackMs(0, 29_000, undefined)).toBe(29_000);
  });

  it('keeps the callback timeout in reserve before the deadline', () => {
    expect(endOfWorkBeforeCallbackMs(0, 29_000, 2_000)).toBe(27_000);
  });

  it('caps the reserve at 10 % of the invocation', () => {
    expect(endOfWorkBeforeCallbackMs(0, 1_800, 5_000)).toBe(1_620);
    expect(endOfWorkBeforeCallbackMs(5_000, 4_000, 5_000)).toBe(4_000);
  });
});
