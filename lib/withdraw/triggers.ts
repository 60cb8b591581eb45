import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';
import { isHttpEvent, isTimerEvent, parseJson, type FcHttpEvent } from '../fc/events';
import { parseWithdrawalItem, parseWithdrawalRequest, type WithdrawalRequest } from './items';
import type { WithdrawalItem } from './withdraw-item';

/**
 * An event-sourced entry: either a valid item, or the reason it was refused. Events
 * of one delivery (an EventBridge array) stand alone: one bad message does not
 * hold back its neighbours, and a refused one is reported, never retried.
 */
export type EventEntry = { item: WithdrawalItem; error?: undefined } | { item?: undefined; error: InvalidParameterError };

export type Delivery =
  | { kind: 'http'; event: FcHttpEvent }
  | { kind: 'invoke'; request: WithdrawalRequest }
  | { kind: 'eventbridge' | 'mns-topic'; entries: EventEntry[]; /** Delivered as an array: answered as a batch. */ batch: boolean };

function isCloudEvent(value: unknown): boolean {
  return isRecord(value) && typeof value.specversion === 'string' && 'data' in value;
}

function isMnsTopicJson(value: Record<string, unknown>): boolean {
  return typeof value.Message === 'string' && typeof value.TopicName === 'string';
}

function isMnsTopicStream(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return typeof value.body === 'string' && keys.every((k) => k === 'body' || k === 'attrs');
}

/** A CloudEvent's item: `data` itself, JSON text in `data`, or JSON in `data.messageBody` (MNS queue source). */
function cloudEventItem(event: Record<string, unknown>): WithdrawalItem {
  let data = event.data;
  if (typeof data === 'string') data = parseJson(data, 'data');
  if (isRecord(data) && typeof data.messageBody === 'string') {
    return parseWithdrawalItem(parseJson(data.messageBody, 'data.messageBody'));
  }
  return parseWithdrawalItem(data);
}

function entry(parse: () => WithdrawalItem): EventEntry {
  try {
    return { item: parse() };
  } catch (error) {
    if (error instanceof InvalidParameterError) return { error };
    throw error;
  }
}

/**
 * Tells the trigger from the event's shape (FC does not say which trigger fired)
 * and extracts the withdrawal items. Shapes are checked from most to least
 * specific, so a direct invocation can never be mistaken for a CloudEvent.
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
        }),
      ),
    };
  }
  if (isHttpEvent(decoded)) return { kind: 'http', event: decoded };
  if (!isRecord(decoded)) {
    throw new InvalidParameterError([{ Path: 'event', Message: 'must be a JSON object or an array of CloudEvents' }]);
  }
  if (isCloudEvent(decoded)) return { kind: 'eventbridge', batch: false, entries: [entry(() => cloudEventItem(decoded))] };
  if (isMnsTopicJson(decoded)) {
    return { kind: 'mns-topic', batch: false, entries: [entry(() => parseWithdrawalItem(parseJson(decoded.Message as string, 'Message')))] };
  }
  if (isMnsTopicStream(decoded)) {
    return { kind: 'mns-topic', batch: false, entries: [entry(() => parseWithdrawalItem(parseJson(decoded.body as string, 'body')))] };
  }
  if (isTimerEvent(decoded)) {
    throw new InvalidParameterError([
      { Path: 'event', Message: 'timer events belong to the cleanup function, not the withdraw function' },
    ]);
  }
  return { kind: 'invoke', request: parseWithdrawalRequest(decoded) };
}
