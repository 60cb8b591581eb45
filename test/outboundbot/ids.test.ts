import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Issue } from '../../lib/core/errors';
import { issuesOf } from '../../lib/core/schema';
import { idSchema } from '../../lib/outboundbot/ids';

const RULE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const PATTERN_MESSAGE = 'must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit';

function check(value: unknown): { id: string | undefined; issues: Issue[] } {
  const result = idSchema().safeParse(value);
  return result.success ? { id: result.data, issues: [] } : { id: undefined, issues: issuesOf(result.error, 'Items[2].ScriptId') };
}

describe('idSchema', () => {
  it.each([
    [undefined, 'is required'],
    [null, 'must be a string'],
    [42, 'must be a string'],
    [['abc'], 'must be a string'],
    ['', PATTERN_MESSAGE],
    ['-abc', PATTERN_MESSAGE],
    ['a'.repeat(65), PATTERN_MESSAGE],
    ['abc\n', PATTERN_MESSAGE],
  ])('refuses %j: %s, at the path it is given', (value, message) => {
    expect(check(value)).toEqual({ id: undefined, issues: [{ Path: 'Items[2].ScriptId', Message: message }] });
  });

  it('property: accepts exactly the strings the rule describes, and returns them unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(RULE)), (id) => {
        expect(check(id)).toEqual(RULE.test(id) ? { id, issues: [] } : { id: undefined, issues: [{ Path: 'Items[2].ScriptId', Message: PATTERN_MESSAGE }] });
      }),
    );
  });
});
