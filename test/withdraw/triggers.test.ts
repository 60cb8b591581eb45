import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { classifyEvent, type Delivery } from '../../lib/withdraw/triggers';
import { cloudEvent, httpEvent, INSTANCE_ID, mnsQueueEvent, referenceEvent, SCRIPT_ID } from '../support/events';
import { decodeEvent } from '../../lib/fc/events';

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

  it('a timer event is refused: it belongs to the cleanup function', () => {
    expect(() => classify({ triggerTime: '2026-11-24T03:00:00Z', triggerName: 'nightly', payload: '{}' })).toThrow(/cleanup function/);
  });

  it('an HTTP-looking event without requestContext.http is not taken for HTTP', () => {
    const event = httpEvent({ body: '{}' });
    delete (event.requestContext as Record<string, unknown>).http;
    expect(() => classify(event)).toThrow(InvalidParameterError);
  });

  it('refuses bytes that are not JSON, and scalars', () => {
    expect(() => classifyEvent(decodeEvent(Buffer.from('hello topic')))).toThrow(InvalidParameterError);
    expect(() => classify(42)).toThrow(InvalidParameterError);
    expect(() => classify([])).toThrow(InvalidParameterError);
  });

  it('property: arbitrary bytes give an invocation or InvalidParameterError, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map((s) => Buffer.from(s))), (bytes) => {
        try {
          classifyEvent(decodeEvent(Buffer.from(bytes)));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidParameterError);
        }
      }),
    );
  });
});
