import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { MAX_BATCH_ITEMS, parseWithdrawalItem, parseWithdrawalRequest } from '../../lib/withdraw/items';
import { INSTANCE_ID, SCRIPT_ID } from '../support/events';
import { issuesOf } from '../support/issues';
import { anyJson, withField } from '../support/json-shapes';

const invalid = (fn: () => unknown) => issuesOf(fn, InvalidParameterError);

describe('withdrawal request validation', () => {
  it('accepts one item and keeps only the two ids', () => {
    const request = parseWithdrawalRequest({ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID, Extra: 'ignored' });
    expect(request).toEqual({ items: [{ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID }], batch: false, callbackUrl: undefined });
  });

  it('accepts a batch and marks it as one', () => {
    const request = parseWithdrawalRequest({ Items: [{ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID }] });
    expect(request.batch).toBe(true);
    expect(request.items).toHaveLength(1);
  });

  it('names each missing field', () => {
    expect(invalid(() => parseWithdrawalRequest({}))).toEqual([
      { Path: 'InstanceId', Message: 'is required' },
      { Path: 'ScriptId', Message: 'is required' },
    ]);
  });

  it('names the field and index inside a batch', () => {
    const issues = invalid(() => parseWithdrawalRequest({ Items: [{ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID }, { InstanceId: INSTANCE_ID, ScriptId: '../etc' }] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.Path).toBe('Items[1].ScriptId');
  });

  it.each([
    ['empty', ''],
    ['leading dash', '-abc'],
    ['leading underscore', '_abc'],
    ['65 characters', 'a'.repeat(65)],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['unicode', 'ａbc'],
  ])('refuses an id with %s', (_name, id) => {
    expect(invalid(() => parseWithdrawalItem({ InstanceId: id, ScriptId: SCRIPT_ID }))[0]!.Path).toBe('InstanceId');
  });

  it('accepts 64 characters, underscores and dashes', () => {
    expect(() => parseWithdrawalItem({ InstanceId: `a${'_-9'.repeat(21)}`, ScriptId: 'Z' })).not.toThrow();
  });

  it('refuses non-string ids', () => {
    expect(invalid(() => parseWithdrawalItem({ InstanceId: 42, ScriptId: SCRIPT_ID }))[0]).toEqual({ Path: 'InstanceId', Message: 'must be a string' });
  });

  it(`caps a batch at ${MAX_BATCH_ITEMS} items and refuses an empty one`, () => {
    const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
    expect(parseWithdrawalRequest({ Items: Array(MAX_BATCH_ITEMS).fill(item) }).items).toHaveLength(MAX_BATCH_ITEMS);
    expect(invalid(() => parseWithdrawalRequest({ Items: Array(MAX_BATCH_ITEMS + 1).fill(item) }))[0]!.Path).toBe('Items');
    expect(invalid(() => parseWithdrawalRequest({ Items: [] }))[0]!.Path).toBe('Items');
  });

  it('refuses a non-object payload', () => {
    for (const payload of [null, 'x', 3, [], true]) expect(() => parseWithdrawalRequest(payload)).toThrow(InvalidParameterError);
  });

  it('refuses a CallbackUrl that is not a URL', () => {
    expect(invalid(() => parseWithdrawalRequest({ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID, CallbackUrl: 'not a url' }))[0]!.Path).toBe('CallbackUrl');
  });

  it('says what is wrong with Items, and names each bad element by index', () => {
    const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
    expect(invalid(() => parseWithdrawalRequest({ Items: 'x' }))).toEqual([{ Path: 'Items', Message: 'must be an array of {InstanceId, ScriptId}' }]);
    expect(invalid(() => parseWithdrawalRequest({ Items: [] }))).toEqual([{ Path: 'Items', Message: 'must hold at least one item' }]);
    // Too many: one issue, not one per element.
    expect(invalid(() => parseWithdrawalRequest({ Items: Array(MAX_BATCH_ITEMS + 1).fill(1) }))).toEqual([
      { Path: 'Items', Message: `must hold at most ${MAX_BATCH_ITEMS} items` },
    ]);
    expect(invalid(() => parseWithdrawalRequest({ Items: [item, 1, [item], { InstanceId: INSTANCE_ID, ScriptId: 7 }, {}], CallbackUrl: 'x' }))).toEqual([
      { Path: 'Items[1]', Message: 'must be an object with InstanceId and ScriptId' },
      { Path: 'Items[2]', Message: 'must be an object with InstanceId and ScriptId' },
      { Path: 'Items[3].ScriptId', Message: 'must be a string' },
      { Path: 'Items[4].InstanceId', Message: 'is required' },
      { Path: 'Items[4].ScriptId', Message: 'is required' },
      { Path: 'CallbackUrl', Message: 'must be an absolute URL' },
    ]);
  });

  it('reads CallbackUrl trimmed, and refuses one that is not text or too long', () => {
    const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
    expect(parseWithdrawalRequest({ ...item, CallbackUrl: ' https://hooks.example.com/done\n ' }).callbackUrl).toBe('https://hooks.example.com/done');
    expect(parseWithdrawalRequest({ Items: [item], CallbackUrl: 'https://hooks.example.com/' }).callbackUrl).toBe('https://hooks.example.com/');
    expect(invalid(() => parseWithdrawalRequest({ ...item, CallbackUrl: 42 }))).toEqual([{ Path: 'CallbackUrl', Message: 'must be an absolute URL' }]);
    const long = `https://hooks.example.com/${'a'.repeat(2048)}`;
    expect(invalid(() => parseWithdrawalRequest({ ...item, CallbackUrl: long }))).toEqual([{ Path: 'CallbackUrl', Message: 'must be at most 2048 characters' }]);
  });

  it('a single event item ignores CallbackUrl and Items', () => {
    expect(parseWithdrawalItem({ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID, CallbackUrl: 5, Items: 'x' })).toEqual({ InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID });
    expect(invalid(() => parseWithdrawalItem([]))).toEqual([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId' }]);
  });

  it('property: accepts exactly the ids the rule describes', () => {
    const rule = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(rule)), (id) => {
        let accepted = true;
        try {
          parseWithdrawalItem({ InstanceId: id, ScriptId: id });
        } catch (error) {
          if (!(error instanceof InvalidParameterError)) throw error;
          accepted = false;
        }
        expect(accepted).toBe(rule.test(id));
      }),
    );
  });

  it('ids behind an own __proto__ key (as JSON.parse makes it) are not read through the prototype', () => {
    const payload = JSON.parse(`{"__proto__":{"InstanceId":"${INSTANCE_ID}","ScriptId":"${SCRIPT_ID}"}}`) as unknown;
    expect(invalid(() => parseWithdrawalRequest(payload)).map((i) => i.Path)).toEqual(['InstanceId', 'ScriptId']);
    expect(() => parseWithdrawalItem(payload)).toThrow(InvalidParameterError);
  });

  it('property: arbitrary JSON never throws anything but InvalidParameterError', () => {
    const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
    const shaped = fc
      .tuple(fc.constantFrom('InstanceId', 'ScriptId', 'CallbackUrl', 'Items'), anyJson)
      .map(([field, value]) => withField(item, [field], value));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), anyJson, shaped), (value) => {
        try {
          parseWithdrawalRequest(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidParameterError);
        }
      }),
    );
  });
});
