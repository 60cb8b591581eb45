/** FC 3.0 event envelopes: what FC hands a Node.js handler, before any trigger reads its items. */
import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';

/** FC 3.0 HTTP trigger event (`version: "v1"`). */
export interface FcHttpEvent {
  version: 'v1';
  rawPath: string;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { requestId?: string; http: { method: string; path?: string; sourceIp?: string } };
}

/** FC hands Node handlers a Buffer; local tools and tests may pass a string or an object. */
export function decodeEvent(event: unknown): unknown {
  if (Buffer.isBuffer(event) || event instanceof Uint8Array || typeof event === 'string') {
    const text = Buffer.from(event as Uint8Array | string).toString('utf8');
    return parseJson(text, 'event');
  }
  return event;
}

/** JSON text inside an event; a refusal names where it was. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidParameterError([{ Path: path, Message: 'is not valid JSON' }]);
  }
}

export function isHttpEvent(value: unknown): value is FcHttpEvent {
  return (
    isRecord(value) &&
    value.version === 'v1' &&
    typeof value.rawPath === 'string' &&
    isRecord(value.requestContext) &&
    isRecord(value.requestContext.http)
  );
}

/** FC's timer event: `{triggerTime, triggerName, payload}`. */
export function isTimerEvent(value: Record<string, unknown>): boolean {
  return typeof value.triggerTime === 'string' && typeof value.triggerName === 'string' && 'payload' in value;
}
