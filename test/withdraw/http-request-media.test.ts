// What an HTTP request's media type, form and query may say (issue #23), beside
// http-request.test.ts: media types are read as HTTP defines them, every refusal names what it
// refused, and a request that names two different scripts is refused, whatever its body is.
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { UnsupportedMediaTypeError } from '../../lib/fc/errors';
import type { FcHttpEvent } from '../../lib/fc/events';
import { readHttpRequest } from '../../lib/fc/http-trigger';
import { parseHttpWithdrawal } from '../../lib/withdraw/http-request';
import { httpEvent, INSTANCE_ID, SCRIPT_ID } from '../support/events';

const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
const parse = (options: Parameters<typeof httpEvent>[0], signed = false) =>
  parseHttpWithdrawal(readHttpRequest(httpEvent(options) as unknown as FcHttpEvent), signed);

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return expect.unreachable('accepted');
}

const issues = (run: () => unknown) => {
  const error = thrown(run);
  expect(error).toBeInstanceOf(InvalidParameterError);
  return (error as InvalidParameterError).issues;
};

describe('the media type of a request body', () => {
  it('is matched without regard to case, parameters or the spaces around it', () => {
    for (const contentType of ['Application/JSON', 'APPLICATION/JSON ; charset=utf-8', ' application/json\t;charset=UTF-8', 'application/json;']) {
      expect([contentType, parse({ body: JSON.stringify(item), contentType }, true).items]).toEqual([contentType, [item]]);
    }
    const form = `InstanceId=${INSTANCE_ID}&ScriptId=${SCRIPT_ID}`;
    expect(parse({ body: form, contentType: 'Application/X-WWW-Form-Urlencoded; charset=utf-8' }, true).items).toEqual([item]);
  });

  it('any structured +json type is read as JSON; a type that merely contains json is not', () => {
    for (const contentType of ['application/merge-patch+json', 'application/vnd.api+json', 'application/cloudevents+json; charset=utf-8']) {
      expect([contentType, parse({ body: JSON.stringify(item), contentType }, true).items]).toEqual([contentType, [item]]);
    }
    for (const contentType of ['application/json-seq', 'application/jsonx', 'application/+json-patch', 'text/json+x']) {
      expect([contentType, thrown(() => parse({ body: JSON.stringify(item), contentType }, true))]).toEqual([contentType, expect.any(UnsupportedMediaTypeError)]);
    }
  });

  it('a refused media type is named as read, bare and lower-case, or as (none) when there is none', () => {
    const named = (contentType: string | undefined) => (thrown(() => parse({ body: JSON.stringify(item), contentType }, true)) as UnsupportedMediaTypeError).contentType;
    expect(named('Text/Plain; charset=utf-8')).toBe('text/plain');
    expect(named(undefined)).toBe('(none)');
    expect(named('')).toBe('(none)');
    expect(named(' ; charset=utf-8')).toBe('(none)');
  });
});

describe('a form body', () => {
  it('names a key that is no field of a withdrawal by that key, cut when it is long', () => {
    const form = `InstanceId=${INSTANCE_ID}&ScriptId=${SCRIPT_ID}&Foo=1`;
    expect(issues(() => parse({ body: form, contentType: 'application/x-www-form-urlencoded' }, true))).toEqual([
      { Path: 'Foo', Message: 'is not a field of a withdrawal (InstanceId, ScriptId, CallbackUrl)' },
    ]);
    const long = 'K'.repeat(500);
    expect(issues(() => parse({ body: `${long}=1`, contentType: 'application/x-www-form-urlencoded' }, true))).toEqual([
      { Path: `${'K'.repeat(64)}…`, Message: 'is not a field of a withdrawal (InstanceId, ScriptId, CallbackUrl)' },
    ]);
  });
});

describe('ids in both the query and the body of an unsigned request', () => {
  it('are refused, naming the id, when the body is not an object carrying the same value', () => {
    const differs = (key: string) => [{ Path: key, Message: 'differs between the query string and the body' }];
    for (const body of ['null', '"a string"', '42', `[${JSON.stringify(item)}]`, '{}']) {
      expect([body, issues(() => parse({ body, contentType: 'application/json', query: { InstanceId: INSTANCE_ID } }))]).toEqual([body, differs('InstanceId')]);
    }
    const other = JSON.stringify({ ...item, ScriptId: 'another-script' });
    expect(issues(() => parse({ body: other, contentType: 'application/json', query: { ScriptId: SCRIPT_ID } }))).toEqual(differs('ScriptId'));
  });
});
