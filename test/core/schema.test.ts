import fc from 'fast-check';
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { integerIn, issuesOf, onFirstUse, pathText, typeMessage } from '../../lib/core/schema';

const issues = (schema: z.ZodMiniType, value: unknown, prefix?: string) => {
  const result = schema.safeParse(value);
  return result.success ? [] : issuesOf(result.error, prefix);
};

describe('zod issues as Issues', () => {
  it('paths read as the request is written', () => {
    expect(pathText(['Items', 3, 'ScriptId'])).toBe('Items[3].ScriptId');
    expect(pathText(['OlderThanMinutes'], 'payload')).toBe('payload.OlderThanMinutes');
    expect(pathText([2], 'Items')).toBe('Items[2]');
    expect(pathText([])).toBe('');
    expect(pathText(['headers', 'k'.repeat(70)])).toBe(`headers.${'k'.repeat(64)}…`);
  });

  it('an unknown-keys issue becomes one per key, named by the key', () => {
    const strict = z.strictObject({ a: z.optional(z.string()) }, { error: 'is not a known field' });
    expect(issues(strict, { a: 'x', b: 1, c: 2 }, 'payload')).toEqual([
      { Path: 'payload.b', Message: 'is not a known field' },
      { Path: 'payload.c', Message: 'is not a known field' },
    ]);
  });

  it('a missing value is "is required", a wrong one gets its message', () => {
    const field = z.object({ x: z.string({ error: typeMessage('must be a string') }) });
    expect(issues(field, {})).toEqual([{ Path: 'x', Message: 'is required' }]);
    expect(issues(field, { x: 1 })).toEqual([{ Path: 'x', Message: 'must be a string' }]);
  });
});

describe('integerIn', () => {
  const schema = integerIn(1, 100);
  it.each([
    [undefined, ['is required']],
    ['5', ['must be a number']],
    [Number.NaN, ['must be a number']],
    [Number.POSITIVE_INFINITY, ['must be a number']],
    [1.5, ['must be an integer']],
    [0, ['must be at least 1']],
    [101, ['must be at most 100']],
    // Past 2^53 a number is no longer exact: said so, beside the range it misses.
    [2 ** 53, ['must be an integer', 'must be at most 100']],
  ])('%j: %j', (value, messages) => {
    expect(issues(schema, value).map((issue) => issue.Message)).toEqual(messages);
  });

  it('property: accepts exactly the integers in range, unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -5, max: 105 }), fc.double({ noNaN: true })), (n) => {
        const result = schema.safeParse(n);
        expect(result.success).toBe(Number.isInteger(n) && n >= 1 && n <= 100);
        if (result.success) expect(result.data).toBe(n);
      }),
    );
  });
});

describe('onFirstUse', () => {
  it('builds once, on the first call, and keeps it', () => {
    let builds = 0;
    const schema = onFirstUse(() => (builds++, z.string()));
    expect(builds).toBe(0);
    expect(schema()).toBe(schema());
    expect(builds).toBe(1);
  });
});
