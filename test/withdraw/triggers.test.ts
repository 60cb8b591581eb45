import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { classifyEvent, type Delivery } from '../../lib/withdraw/triggers';
import { cloudEvent, httpEvent, INSTANCE_ID, mnsQueueEvent, referenceEvent, SCRIPT_ID } from '../support/events';
import { decodeEvent } from '../../lib/fc/events';
import { issuesOf } from '../support/issues';
import { anyField, anyJson, asBytes, MISSING, withField } from '../support/json-shapes';

const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
const asBuffer = (value: unknown) => Buffer.from(JSON.stringify(value));
const classify = (value: unknown): Delivery => classifyEvent(decodeEvent(asBuffer(value)));

describe('trigger classification', () => {
  it('recognises the FC 3.0 HTTP trigger template', () => {
    const invocation = classify(referenceEvent('fc3-template-http.json'));
    expect(invocation.kind).toBe('http');
  });

  it('direct invoke: one item, and a batch', () => {
    expect(classify(item)).toEqual({ kind: 'invoke', request: { items: [item], batch: false, callbackUrl: undefined } });
    const batch = classify({ Items: [item, { ...item, ScriptId: 'other-script' }] });
    expect(batch.kind === 'invoke' && batch.request.items.map((i) => i.ScriptId)).toEqual([SCRIPT_ID, 'other-script']);
  });

  it('EventBridge CloudEvent with the item as data, keyed by source and event id', () => {
    expect(classify(cloudEvent(item))).toEqual({ kind: 'eventbridge', batch: false, entries: [{ item, key: 'ce:acs.mns:45ef4dewdwe1-7c35-447a-bd93-fab****' }] });
  });

  it('EventBridge CloudEvent whose data is JSON text', () => {
    expect(classify(cloudEvent(JSON.stringify(item)))).toEqual({ kind: 'eventbridge', batch: false, entries: [{ item, key: 'ce:acs.mns:45ef4dewdwe1-7c35-447a-bd93-fab****' }] });
  });

  it('MNS queue through EventBridge: the item is JSON in data.messageBody, keyed by the MNS messageId', () => {
    expect(classify(mnsQueueEvent(JSON.stringify(item)))).toEqual({ kind: 'eventbridge', batch: false, entries: [{ item, key: 'mns:E3C0C6****' }] });
  });

  it('an MNS body Base64-encoded by the sending SDK is decoded, marked, and keyed as before', () => {
    const encoded = Buffer.from(JSON.stringify(item)).toString('base64');
    expect(classify(mnsQueueEvent(encoded))).toEqual({ kind: 'eventbridge', batch: false, entries: [{ item, key: 'mns:E3C0C6****', base64: true }] });
    const topic = { ...referenceEvent('fc3-template-mns-with-MessageAttributes.json'), Message: encoded };
    expect(classify(topic)).toMatchObject({ kind: 'mns-topic', entries: [{ item, base64: true }] });
    expect(classify({ body: encoded })).toMatchObject({ kind: 'mns-topic', entries: [{ item, base64: true }] });
  });

  it('Base64 of anything but an item is refused as the body that is not JSON', () => {
    for (const text of [Buffer.from('not json').toString('base64'), Buffer.from('{"InstanceId":').toString('base64'), 'abc', 'YWJj=']) {
      const delivery = classify(mnsQueueEvent(text));
      expect(delivery.kind === 'eventbridge' && delivery.entries[0]!.error?.issues).toEqual([{ Path: 'data.messageBody', Message: 'is not valid JSON' }]);
    }
    const wrongItem = classify(mnsQueueEvent(Buffer.from(JSON.stringify({ InstanceId: INSTANCE_ID })).toString('base64')));
    expect(wrongItem.kind === 'eventbridge' && wrongItem.entries[0]!.error?.issues).toEqual([{ Path: 'ScriptId', Message: 'is required' }]);
  });

  it('an EventBridge redelivery of one MNS message (new event id) keeps its key', () => {
    const first = classify(mnsQueueEvent(JSON.stringify(item)));
    const again = classify({ ...mnsQueueEvent(JSON.stringify(item)), id: 'another-event-id' });
    expect(first.kind === 'eventbridge' && again.kind === 'eventbridge' && [first.entries[0]!.key, again.entries[0]!.key]).toEqual(['mns:E3C0C6****', 'mns:E3C0C6****']);
  });

  it('an array of CloudEvents: one entry each, a bad one refused on its own', () => {
    const invocation = classify([mnsQueueEvent(JSON.stringify(item)), mnsQueueEvent('not json'), cloudEvent({ InstanceId: INSTANCE_ID })]);
    expect(invocation.kind).toBe('eventbridge');
    if (invocation.kind !== 'eventbridge') return;
    expect(invocation.batch).toBe(true);
    expect(invocation.entries[0]).toEqual({ item, key: 'mns:E3C0C6****' });
    expect(invocation.entries[1]!.error?.issues).toEqual([{ Path: 'data.messageBody', Message: 'is not valid JSON' }]);
    expect(invocation.entries[2]!.error?.issues[0]!.Path).toBe('ScriptId');
  });

  it('an array element that is not a CloudEvent is refused, not guessed', () => {
    const invocation = classify([item]);
    expect(invocation.kind === 'eventbridge' && invocation.entries[0]!.error?.issues[0]).toEqual({ Path: '[0]', Message: 'is not a CloudEvent' });
  });

  it('MNS topic, JSON format, with and without message attributes', () => {
    for (const name of ['fc3-template-mns-with-MessageAttributes.json', 'fc3-template-mns-without-MessageAttributes.json']) {
      const event = { ...referenceEvent(name), Message: JSON.stringify(item) };
      expect(classify(event)).toEqual({ kind: 'mns-topic', batch: false, entries: [{ item, key: `mns:${String((event as Record<string, unknown>).MessageId)}` }] });
    }
  });

  it('MNS topic, JSON format, with the template text message is refused as bad JSON', () => {
    const invocation = classify(referenceEvent('fc3-template-mns-without-MessageAttributes.json'));
    expect(invocation.kind === 'mns-topic' && invocation.entries[0]!.error?.issues).toEqual([{ Path: 'Message', Message: 'is not valid JSON' }]);
  });

  it('MNS topic, STREAM format with attributes ({body, attrs})', () => {
    const event = { ...referenceEvent('fc3-template-mns-stream.json'), body: JSON.stringify(item) };
    const delivery = classify(event);
    expect(delivery).toEqual({ kind: 'mns-topic', batch: false, entries: [{ item }] });
    expect(delivery.kind === 'mns-topic' && 'key' in delivery.entries[0]! && delivery.entries[0]!.key).toBe(undefined);
  });

  it('MNS topic, STREAM format without attributes: the raw body is the item', () => {
    expect(classify(item).kind).toBe('invoke');
  });

  describe('an FC async destination envelope', () => {
    const envelope = (requestPayload: unknown, requestId = 'original-request-id') => ({
      timestamp: 1660120276975,
      requestContext: { requestId, functionArn: 'acs:fc:cn-shanghai:123:functions/withdraw-script-review-withdraw', condition: 'UnhandledInvocationError', approximateInvokeCount: 3 },
      requestPayload,
      responseContext: { statusCode: 200, functionError: 'RetryableFailureError' },
      responsePayload: '',
    });

    it('is the original request under the original invocation\'s key, whether the payload is JSON text or an object', () => {
      const expected = { kind: 'destination', request: { items: [item], batch: false, callbackUrl: undefined }, key: 'req:original-request-id' };
      expect(classify(envelope(JSON.stringify(item)))).toEqual(expected);
      expect(classify(envelope(item))).toEqual(expected);
      expect(classify(envelope({ Items: [item] }))).toMatchObject({ kind: 'destination', request: { batch: true } });
    });

    it('a bad payload is a 400 naming where in the envelope', () => {
      expect(issuesOf(() => classify(envelope('not json')), InvalidParameterError)).toEqual([{ Path: 'requestPayload', Message: 'is not valid JSON' }]);
      expect(issuesOf(() => classify(envelope({ InstanceId: INSTANCE_ID })), InvalidParameterError)).toEqual([{ Path: 'requestPayload.ScriptId', Message: 'is required' }]);
      expect(issuesOf(() => classify(envelope(item, '')), InvalidParameterError)).toEqual([{ Path: 'requestContext.requestId', Message: expect.any(String) }]);
    });

    it('an HTTP trigger event is never taken for one', () => {
      expect(classify({ ...referenceEvent<Record<string, unknown>>('fc3-template-http.json'), requestPayload: item }).kind).toBe('http');
    });
  });

  it('a timer event is refused: it belongs to the cleanup function', () => {
    expect(() => classify({ triggerTime: '2026-11-24T03:00:00Z', triggerName: 'nightly', payload: '{}' })).toThrow(/cleanup function/);
  });

  it('an HTTP-looking event without requestContext.http is refused, naming it, not taken for anything else', () => {
    const event = httpEvent({ body: '{}' });
    delete (event.requestContext as Record<string, unknown>).http;
    expect(issuesOf(() => classify(event), InvalidParameterError)).toEqual([{ Path: 'requestContext.http', Message: 'is required' }]);
  });

  it.each([
    ['no method', ['requestContext', 'http', 'method'], MISSING, 'requestContext.http.method'],
    ['a body that is not a string', ['body'], 42, 'body'],
    ['headers that are not strings', ['headers', 'Content-Type'], ['application/json'], 'headers.Content-Type'],
    ['isBase64Encoded that is not a boolean', ['isBase64Encoded'], 1, 'isBase64Encoded'],
    ['a query value that is not a string', ['queryParameters', 'InstanceId'], { v: INSTANCE_ID }, 'queryParameters.InstanceId'],
    ['no rawPath (requestContext says HTTP)', ['rawPath'], MISSING, 'rawPath'],
  ] as const)('an HTTP-shaped event with %s is refused as InvalidParameter naming the field', (_name, path, value, named) => {
    const event = withField(httpEvent({ body: JSON.stringify(item), contentType: 'application/json' }), [...path], value);
    expect(issuesOf(() => classify(event), InvalidParameterError).map((issue) => issue.Path)).toEqual([named]);
  });

  it('a CloudEvent whose source is not a string is keyed by the invocation, not by String(source)', () => {
    for (const source of [{ toString: 1 }, [{ toString: 'x' }], null, 7]) {
      expect(classify(cloudEvent(item, { source }))).toEqual({ kind: 'eventbridge', batch: false, entries: [{ item, key: undefined }] });
    }
    expect(classify([cloudEvent(item, { source: { valueOf: {} } })])).toEqual({ kind: 'eventbridge', batch: true, entries: [{ item, key: undefined }] });
  });

  it('refuses bytes that are not JSON, and scalars', () => {
    expect(() => classifyEvent(decodeEvent(Buffer.from('hello topic')))).toThrow(InvalidParameterError);
    expect(() => classify(42)).toThrow(InvalidParameterError);
    expect(() => classify([])).toThrow(InvalidParameterError);
  });

  it('property: arbitrary bytes give an invocation or InvalidParameterError, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map((s) => Buffer.from(s)), anyJson.map(asBytes)), (bytes) => {
        try {
          classifyEvent(decodeEvent(Buffer.from(bytes)));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidParameterError);
        }
      }),
    );
  });

  it('property: every trigger shape with any field replaced: a delivery or InvalidParameterError, and HTTP only when well-formed', () => {
    const shapes: Array<[Record<string, unknown>, string[][]]> = [
      [httpEvent({ body: JSON.stringify(item), contentType: 'application/json' }), [['body'], ['headers'], ['isBase64Encoded'], ['queryParameters'], ['requestContext', 'http', 'method'], ['rawPath'], ['version']]],
      [cloudEvent(item), [['data'], ['source'], ['id'], ['specversion'], ['data', 'messageBody']]],
      [{ ...referenceEvent('fc3-template-mns-with-MessageAttributes.json'), Message: JSON.stringify(item) }, [['Message'], ['TopicName'], ['MessageId']]],
      [{ body: JSON.stringify(item), attrs: {} }, [['body'], ['attrs']]],
      [{ triggerTime: '2026-11-24T03:00:00Z', triggerName: 'nightly', payload: '{}' }, [['triggerTime'], ['triggerName'], ['payload']]],
      [{ ...item, CallbackUrl: 'https://hooks.example.com/x' }, [['InstanceId'], ['ScriptId'], ['CallbackUrl'], ['Items']]],
    ];
    const drawn = fc.constantFrom(...shapes).chain(([event, fields]) =>
      fc.array(fc.tuple(fc.constantFrom(...fields), anyField), { minLength: 1, maxLength: 3 }).map((edits) => edits.reduce((e, [path, value]) => withField(e, path, value), event)),
    );
    fc.assert(
      fc.property(fc.oneof(drawn, drawn.map((event) => [event])), (event) => {
        try {
          const delivery = classify(event);
          if (delivery.kind === 'http') expect(() => classifyEvent(delivery.event)).not.toThrow();
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidParameterError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
