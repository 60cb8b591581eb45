import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError, type Issue } from '../../lib/core/errors';
import {
  absoluteUrl,
  booleanOr,
  flagText,
  integerText,
  matchText,
  oneOfText,
  optionalText,
  parsedBy,
  prefixPaths,
  refuse,
  requiredInteger,
  requiredMatch,
  unknownKeys,
} from '../../lib/core/fields';

/** Runs one check on a fresh issues array: what it returned, and what it recorded. */
function check<T>(read: (issues: Issue[]) => T): { value: T; messages: string[] } {
  const issues: Issue[] = [];
  const value = read(issues);
  expect(issues.every((i) => i.Path === 'X')).toBe(true);
  return { value, messages: issues.map((i) => i.Message) };
}
const ok = <T>(value: T) => ({ value, messages: [] });
const refused = (...messages: string[]) => ({ value: undefined, messages });

describe('refuse and prefixPaths', () => {
  it('records one issue and returns undefined', () => {
    const issues: Issue[] = [];
    expect(refuse(issues, 'A', 'is bad')).toBeUndefined();
    expect(issues).toEqual([{ Path: 'A', Message: 'is bad' }]);
  });

  it('prefixes only the issues recorded since `from`', () => {
    const issues: Issue[] = [
      { Path: 'Items', Message: 'm' },
      { Path: 'InstanceId', Message: 'm' },
      { Path: 'ScriptId', Message: 'm' },
    ];
    prefixPaths(issues, 1, 'Items[3]');
    expect(issues.map((i) => i.Path)).toEqual(['Items', 'Items[3].InstanceId', 'Items[3].ScriptId']);
  });
});

describe('integerText (an environment variable)', () => {
  const read = (value: string | undefined) => check((issues) => integerText(value, 'X', issues, 1, 10, 4));

  it.each([
    [undefined, ok(4)],
    ['7', ok(7)],
    [' 7 ', ok(7)],
    ['1.0', ok(1)],
    ['1e1', ok(10)],
    ['0b11', ok(3)],
    ['', refused('must be at least 1')],
    [' ', refused('must be at least 1')],
    ['0', refused('must be at least 1')],
    ['11', refused('must be at most 10')],
    ['1.5', refused('must be an integer')],
    ['three', refused('must be a number')],
    ['NaN', refused('must be a number')],
    ['Infinity', refused('must be a number')],
    ['-Infinity', refused('must be a number')],
    ['1e20', refused('must be an integer', 'must be at most 10')],
    ['-1e20', refused('must be an integer', 'must be at least 1')],
  ])('%j → %j', (value, expected) => {
    expect(read(value)).toEqual(expected);
  });

  it('property: an integer is accepted exactly when in range, and then returned', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), (n) => {
        const inRange = n >= 1 && n <= 10;
        expect(read(String(n))).toEqual(inRange ? ok(n) : refused(n < 1 ? 'must be at least 1' : 'must be at most 10'));
      }),
    );
  });

  it('property: a finite non-integer is refused as one, whatever its range', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)), (x) => {
        expect(read(String(x))).toEqual(refused('must be an integer'));
      }),
    );
  });
});

describe('requiredInteger (a JSON value)', () => {
  const read = (value: unknown) => check((issues) => requiredInteger(value, 'X', issues, 1, 10));

  it.each([
    [5, ok(5)],
    [undefined, refused('is required')],
    [null, refused('must be a number')],
    ['5', refused('must be a number')],
    [true, refused('must be a number')],
    [[5], refused('must be a number')],
    [Number.NaN, refused('must be a number')],
    [Number.POSITIVE_INFINITY, refused('must be a number')],
    [1.5, refused('must be an integer')],
    [0, refused('must be at least 1')],
    [11, refused('must be at most 10')],
    [2 ** 53, refused('must be an integer', 'must be at most 10')],
  ])('%j → %j', (value, expected) => {
    expect(read(value)).toEqual(expected);
  });

  it('property: accepts exactly the integers in range', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -20, max: 20 }), fc.double()), (x) => {
        const accepted = read(x).messages.length === 0;
        expect(accepted).toBe(Number.isInteger(x) && x >= 1 && x <= 10);
      }),
    );
  });
});

describe('requiredMatch', () => {
  const read = (value: unknown) => check((issues) => requiredMatch(value, 'X', issues, /^[a-z]+$/, 'must be letters'));

  it.each([
    ['abc', ok('abc')],
    [undefined, refused('is required')],
    [null, refused('must be a string')],
    [42, refused('must be a string')],
    [['abc'], refused('must be a string')],
    ['', refused('must be letters')],
    ['ab1', refused('must be letters')],
  ])('%j → %j', (value, expected) => {
    expect(read(value)).toEqual(expected);
  });
});

describe('booleanOr', () => {
  it.each([
    [undefined, ok(false)],
    [true, ok(true)],
    [false, ok(false)],
    ['true', refused('must be true or false')],
    [1, refused('must be true or false')],
    [null, refused('must be true or false')],
  ])('%j → %j', (value, expected) => {
    expect(check((issues) => booleanOr(value, 'X', issues, false))).toEqual(expected);
  });
});

describe('absoluteUrl', () => {
  const read = (value: unknown, maxLength = 2048) => check((issues) => absoluteUrl(value, 'X', issues, maxLength));

  it.each([
    [undefined, ok(undefined)],
    ['https://hooks.example.com/a?b=1', ok('https://hooks.example.com/a?b=1')],
    // Trimmed, and without the tabs and newlines the URL parser would drop anyway.
    [' https://hooks.example.com/a\tb\n ', ok('https://hooks.example.com/ab')],
    ['mailto:x@example.com', ok('mailto:x@example.com')],
    ['', refused('must be an absolute URL')],
    ['not a url', refused('must be an absolute URL')],
    ['/relative/path', refused('must be an absolute URL')],
    ['//hooks.example.com', refused('must be an absolute URL')],
    ['https://hooks.example.com:99999', refused('must be an absolute URL')],
    [null, refused('must be an absolute URL')],
    [5, refused('must be an absolute URL')],
    [{ length: 5000 }, refused('must be an absolute URL')],
  ])('%j → %j', (value, expected) => {
    expect(read(value)).toEqual(expected);
  });

  it('counts characters as code points, after trimming', () => {
    const prefix = 'https://x.example/';
    expect(read(`${prefix}${'a'.repeat(30 - prefix.length)}`, 30).messages).toEqual([]);
    expect(read(` ${prefix}${'a'.repeat(30 - prefix.length)} `, 30).messages).toEqual([]);
    expect(read(`${prefix}${'a'.repeat(31 - prefix.length)}`, 30)).toEqual(refused('must be at most 30 characters'));
    // 😀 is two UTF-16 units but one character.
    expect(read(`${prefix}${'😀'.repeat(30 - prefix.length)}`, 30).messages).toEqual([]);
    expect(read(`${prefix}${'😀'.repeat(31 - prefix.length)}`, 30)).toEqual(refused('must be at most 30 characters'));
  });

  it('names both problems of long text that is no URL', () => {
    expect(read('x'.repeat(31), 30)).toEqual(refused('must be an absolute URL', 'must be at most 30 characters'));
  });
});

describe('unknownKeys', () => {
  const known = new Set(['A', 'B']);

  it('names each unknown key, in the order the object holds them', () => {
    const issues: Issue[] = [];
    unknownKeys({ z: 1, A: 1, y: 2, B: 2, 2: 0, 1: 0 }, known, issues, 'is not known');
    expect(issues).toEqual(['1', '2', 'z', 'y'].map((Path) => ({ Path, Message: 'is not known' })));
  });

  it('names an own __proto__ key (as JSON.parse makes it) like any other', () => {
    const issues: Issue[] = [];
    unknownKeys(JSON.parse('{"A":1,"__proto__":{"B":2}}') as Record<string, unknown>, known, issues, 'is not known');
    expect(issues).toEqual([{ Path: '__proto__', Message: 'is not known' }]);
  });
});

describe('environment text', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    [' \t', undefined],
    [' a b ', 'a b'],
  ])('optionalText(%j) → %j', (value, expected) => {
    expect(optionalText(value)).toBe(expected);
  });

  it.each([
    [undefined, ok(false)],
    ['', ok(false)],
    ['false', ok(false)],
    ['0', ok(false)],
    ['no', ok(false)],
    ['true', ok(true)],
    ['1', ok(true)],
    ['yes', ok(true)],
    ['TRUE', refused('must be true or false')],
    [' true', refused('must be true or false')],
    ['on', refused('must be true or false')],
  ])('flagText(%j) → %j', (value, expected) => {
    expect(check((issues) => flagText(value, 'X', issues))).toEqual(expected);
  });

  it.each([
    [undefined, ok('b')],
    ['a', ok('a')],
    ['', refused('must be one of a, b')],
    ['A', refused('must be one of a, b')],
    [' a', refused('must be one of a, b')],
  ])('oneOfText(%j) → %j', (value, expected) => {
    expect(check((issues) => oneOfText(value, 'X', issues, ['a', 'b'], 'b'))).toEqual(expected);
  });

  it.each([
    [undefined, ok('dflt')],
    ['abc', ok('abc')],
    ['', refused('must be letters')],
    [' abc', refused('must be letters')],
  ])('matchText(%j) → %j (not trimmed)', (value, expected) => {
    expect(check((issues) => matchText(value, 'X', issues, /^[a-z]+$/, 'must be letters', 'dflt'))).toEqual(expected);
  });
});

describe('parsedBy', () => {
  const parse = (value: string | undefined) => {
    if (value === 'bad') throw new InvalidConfigurationError([{ Path: 'OTHER', Message: 'first' }, { Path: 'OTHER', Message: 'second' }]);
    if (value === 'boom') throw new TypeError('boom');
    return value ?? 'unset';
  };

  it('hands the parser the trimmed value, unset when blank', () => {
    expect(check((issues) => parsedBy('  v ', 'X', issues, parse))).toEqual(ok('v'));
    expect(check((issues) => parsedBy('  ', 'X', issues, parse))).toEqual(ok('unset'));
  });

  it("records each of the parser's refusals under the variable's name", () => {
    expect(check((issues) => parsedBy('bad', 'X', issues, parse))).toEqual(refused('first', 'second'));
  });

  it('lets any other error through', () => {
    expect(() => parsedBy('boom', 'X', [], parse)).toThrow(TypeError);
  });
});
