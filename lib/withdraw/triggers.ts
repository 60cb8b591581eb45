import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';
import { isHttpShaped, isTimerEvent, parseHttpEvent, parseJson, type FcHttpEvent } from '../fc/events';
import { parseWithdrawalItem, parseWithdrawalRequest, type WithdrawalRequest } from './items';
import type { WithdrawalItem } from './withdraw-item';

/**
 * An event-sourced entry: either a valid item, or the reason it was refused. Events
 * of one delivery (an EventBridge array) stand alone: one bad message does not
 * hold back its neighbours, and a refused one is reported, never retried.
 */
export type EventEntry =
  | {
      item: WithdrawalItem;
      /** The message's own idempotency key, when the source gives one. */
      key?: string;
      /** Its body came Base64-encoded (an MNS SDK's default) and was decoded. */
      base64?: true;
      error?: undefined;
    }
  | { item?: undefined; key?: undefined; base64?: undefined; error: InvalidParameterError };

export type Delivery =
  | { kind: 'http'; event: FcHttpEvent }
  | { kind: 'invoke'; request: WithdrawalRequest }
  /** An FC async destination's envelope: the original request, under the original invocation's key. */
  | { kind: 'destination'; request: WithdrawalRequest; key: string }
  | { kind: 'eventbridge' | 'mns-topic'; entries: EventEntry[]; /** Delivered as an array: answered as a batch. */ batch: boolean };

function isCloudEvent(value: unknown): boolean {
  return isRecord(value) && typeof value.specversion === 'string' && 'data' in value;
}

/**
 * What FC sends an async invocation's destination: `{timestamp, requestContext: {requestId,
 * functionArn, condition, approximateInvokeCount}, requestPayload, responseContext,
 * responsePayload}`. It has a `requestContext` but no `rawPath`, unlike an HTTP event.
 */
function isDestinationEnvelope(value: Record<string, unknown>): boolean {
  const context = value.requestContext;
  return value.rawPath === undefined && 'requestPayload' in value && isRecord(context) && typeof context.functionArn === 'string';
}

/**
 * The withdrawal an envelope's `requestPayload` asked for (JSON text, or the object), keyed by the
 * original invocation's requestId: the key that invocation ran under, so what it settled is
 * answered from the store and only the rest is withdrawn.
 */
function destinationDelivery(envelope: Record<string, unknown>): Delivery {
  const requestId = (envelope.requestContext as Record<string, unknown>).requestId;
  if (typeof requestId !== 'string' || requestId === '') {
    throw new InvalidParameterError([{ Path: 'requestContext.requestId', Message: 'must be the original invocation\'s requestId' }]);
  }
  const payload = typeof envelope.requestPayload === 'string' ? parseJson(envelope.requestPayload, 'requestPayload') : envelope.requestPayload;
  try {
    return { kind: 'destination', request: parseWithdrawalRequest(payload), key: `req:${requestId}` };
  } catch (error) {
    if (!(error instanceof InvalidParameterError)) throw error;
    throw new InvalidParameterError(error.issues.map((issue) => ({ Path: issue.Path ? `requestPayload.${issue.Path}` : 'requestPayload', Message: issue.Message })));
  }
}

function isMnsTopicJson(value: Record<string, unknown>): boolean {
  return typeof value.Message === 'string' && typeof value.TopicName === 'string';
}

function isMnsTopicStream(value: Record<string, unknown>): boolean {
  return typeof value.body === 'string' && Object.keys(value).every((k) => k === 'body' || k === 'attrs');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A message body's item: JSON text, or Base64 of JSON text. MNS SDKs Base64-encode bodies by
 * default, and an EventBridge MNS source with IsBase64Decode false passes them on as sent. JSON
 * text is never valid Base64 of anything (an object starts with `{`), so the two cannot be confused.
 */
function messageItem(text: string, path: string): { item: WithdrawalItem; base64?: true } {
  try {
    return { item: parseWithdrawalItem(JSON.parse(text)) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  const trimmed = text.trim();
  if (trimmed === '' || !BASE64.test(trimmed)) return { item: parseWithdrawalItem(parseJson(text, path)) };
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  return { item: parseWithdrawalItem(parseJson(decoded, path)), base64: true };
}

/** A CloudEvent's item: `data` itself, JSON text in `data`, or a message body in `data.messageBody` (MNS queue source). */
function cloudEventItem(event: Record<string, unknown>): { item: WithdrawalItem; base64?: true } {
  let data = event.data;
  if (typeof data === 'string') data = parseJson(data, 'data');
  if (isRecord(data) && typeof data.messageBody === 'string') return messageItem(data.messageBody, 'data.messageBody');
  return { item: parseWithdrawalItem(data) };
}

/**
 * The idempotency key a message carries (docs/DESIGN.md, "Exactly once"): MNS's `messageId`
 * survives EventBridge's redelivery, which gives the CloudEvent a new `id`; other sources'
 * CloudEvent `id` is unique per source.
 */
function cloudEventKey(event: Record<string, unknown>): string | undefined {
  const data = event.data;
  if (isRecord(data) && typeof data.messageId === 'string' && data.messageId !== '') return `mns:${data.messageId}`;
  // An id is unique only within its source; without a string source the invocation's key is used.
  return typeof event.id === 'string' && event.id !== '' && typeof event.source === 'string' ? `ce:${event.source}:${event.id}` : undefined;
}

function entry(parse: () => { item: WithdrawalItem; base64?: true }, key: string | undefined): EventEntry {
  try {
    return { ...parse(), key };
  } catch (error) {
    if (error instanceof InvalidParameterError) return { error };
    throw error;
  }
}

/** The MNS topic's `MessageId` (JSON format); the STREAM format carries none. */
function mnsTopicKey(event: Record<string, unknown>): string | undefined {
  return typeof event.MessageId === 'string' && event.MessageId !== '' ? `mns:${event.MessageId}` : undefined;
}

/**
 * Tells the trigger from the event's shape (FC does not say which trigger fired)
 * and extracts the withdrawal items. Shapes are checked from most to least
 * specific, so a direct invocation can never be mistaken for a CloudEvent. Total over
 * any JSON value: what is not a well-formed event of a known trigger is an
 * InvalidParameterError naming the field (an HTTP-shaped event included: it is answered
 * as an event, since no HTTP trigger made it), never a TypeError.
 */
export function classifyEvent(decoded: unknown): Delivery {
  if (Array.isArray(decoded)) {
    if (decoded.length === 0) throw new InvalidParameterError([{ Path: 'event', Message: 'is an empty array' }]);
    return {
      kind: 'eventbridge',
      batch: true,
      entries: decoded.map((event, index) =>
        entry(() => {
          if (!isCloudEvent(event)) {
            throw new InvalidParameterError([{ Path: `[${index}]`, Message: 'is not a CloudEvent' }]);
          }
          return cloudEventItem(event as Record<string, unknown>);
        }, isCloudEvent(event) ? cloudEventKey(event as Record<string, unknown>) : undefined),
      ),
    };
  }
  if (!isRecord(decoded)) {
    throw new InvalidParameterError([{ Path: 'event', Message: 'must be a JSON object or an array of CloudEvents' }]);
  }
  if (isDestinationEnvelope(decoded)) return destinationDelivery(decoded);
  if (isHttpShaped(decoded)) return { kind: 'http', event: parseHttpEvent(decoded) };
  if (isCloudEvent(decoded)) return { kind: 'eventbridge', batch: false, entries: [entry(() => cloudEventItem(decoded), cloudEventKey(decoded))] };
  if (isMnsTopicJson(decoded)) {
    return { kind: 'mns-topic', batch: false, entries: [entry(() => messageItem(decoded.Message as string, 'Message'), mnsTopicKey(decoded))] };
  }
  if (isMnsTopicStream(decoded)) {
    return { kind: 'mns-topic', batch: false, entries: [entry(() => messageItem(decoded.body as string, 'body'), undefined)] };
  }
  if (isTimerEvent(decoded)) {
    throw new InvalidParameterError([
      { Path: 'event', Message: 'timer events belong to the cleanup function, not the withdraw function' },
    ]);
  }
  return { kind: 'invoke', request: parseWithdrawalRequest(decoded) };
}
