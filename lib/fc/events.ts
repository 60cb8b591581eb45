/** FC 3.0 event envelopes: what FC hands a Node.js handler, before any trigger reads its items. */
import { InvalidParameterError, type Issue } from '../core/errors';
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

/**
 * The most an event may weigh before it is parsed. The largest legitimate one is an HTTP event
 * with a 64 KiB body (MAX_BODY_BYTES), base64 or JSON-escaped, and its headers; parsing is what
 * costs memory (a 30 MB event grew a fresh instance by ~61 MB), so size is judged on the bytes.
 */
export const MAX_EVENT_BYTES = 1024 * 1024;

/**
 * The UTF-8 length of `text`, or a lower bound of it once that is past `limit`: it lies between
 * the text's length in UTF-16 units and three times that, so only a text that could be either
 * side of the limit is measured.
 */
function utf8LengthPast(text: string, limit: number): number {
  return text.length > limit || text.length * 3 <= limit ? text.length : Buffer.byteLength(text);
}

/** An event too large to parse: its size, and whether its bytes name an HTTP trigger's fields, so the 413 is an HTTP answer. */
export function oversizedEvent(event: unknown): { bytes: number; http: boolean } | undefined {
  if (!(event instanceof Uint8Array) && typeof event !== 'string') return undefined;
  const bytes = typeof event === 'string' ? utf8LengthPast(event, MAX_EVENT_BYTES) : event.byteLength;
  if (bytes <= MAX_EVENT_BYTES) return undefined;
  // Read in place: a copy of the event is what this check exists to avoid.
  const text: JsonText = typeof event === 'string' ? stringText(event) : bufferText(Buffer.from(event.buffer, event.byteOffset, event.byteLength));
  const keys = topLevelKeys(text);
  return { bytes, http: keys.has('rawPath') && keys.has('requestContext') };
}

/** JSON text as the key scan reads it: a character code at a position, and the next `"` from one. */
interface JsonText {
  length: number;
  code(at: number): number;
  nextQuote(from: number): number;
  slice(from: number, to: number): string;
}
const stringText = (text: string): JsonText => ({ length: text.length, code: (at) => text.charCodeAt(at), nextQuote: (from) => text.indexOf('"', from), slice: (from, to) => text.slice(from, to) });
const bufferText = (bytes: Buffer): JsonText => ({ length: bytes.length, code: (at) => bytes[at]!, nextQuote: (from) => bytes.indexOf(0x22, from), slice: (from, to) => bytes.toString('latin1', from, to) });

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a;
const isSpace = (code: number): boolean => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

/**
 * The keys of the outermost object of JSON text, short ones only, without parsing it: strings
 * are skipped with a native search for their closing quote, so a huge body costs little.
 */
function topLevelKeys(text: JsonText): Set<string> {
  const keys = new Set<string>();
  let depth = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.code(at);
    if (code === 0x7b || code === 0x5b) depth++;
    else if (code === 0x7d || code === 0x5d) depth--;
    if (code !== QUOTE) continue;
    let end = text.nextQuote(at + 1);
    while (end > 0 && isEscaped(text, end)) end = text.nextQuote(end + 1);
    if (end < 0) break;
    let next = end + 1;
    while (next < text.length && isSpace(text.code(next))) next++;
    if (depth === 1 && end - at <= 32 && text.code(next) === COLON) keys.add(text.slice(at + 1, end));
    at = end;
  }
  return keys;
}

/** A quote preceded by an odd run of backslashes is inside its string. */
function isEscaped(text: JsonText, quoteAt: number): boolean {
  let run = 0;
  while (text.code(quoteAt - 1 - run) === BACKSLASH) run++;
  return run % 2 === 1;
}

/** FC hands Node handlers a Buffer; local tools and tests may pass a string or an object. */
export function decodeEvent(event: unknown): unknown {
  // A Buffer (what FC hands over) is decoded in place, not copied first.
  if (Buffer.isBuffer(event)) return parseJson(event.toString('utf8'), 'event');
  if (event instanceof Uint8Array || typeof event === 'string') return parseJson(Buffer.from(event).toString('utf8'), 'event');
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

/**
 * An event carrying `rawPath` or `requestContext` claims to be an HTTP trigger's: no other
 * trigger's event has either field (CloudEvent attribute names are lower case), so such an
 * event is held to the HTTP trigger's shape ({@link httpEventIssues}) rather than guessed at.
 */
export function isHttpShaped(value: Record<string, unknown>): boolean {
  return value.rawPath !== undefined || value.requestContext !== undefined;
}

const wrongType = (value: unknown, expected: string): string => (value === undefined ? 'is required' : `must be ${expected}`);

/** Keys are the sender's text: a path quotes at most this much of one. */
const MAX_KEY_CHARS = 64;

/** An optional map of strings (`headers`, `queryParameters`); its first bad entry is named. */
function stringMapIssue(map: unknown, field: string): Issue | undefined {
  if (map === undefined) return undefined;
  if (!isRecord(map)) return { Path: field, Message: 'must be an object of strings' };
  // for…in: no key array on the hot path; a JSON object has no inherited keys.
  for (const key in map) {
    if (typeof map[key] === 'string') continue;
    const shown = key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}…` : key;
    return { Path: `${field}.${shown}`, Message: 'must be a string' };
  }
  return undefined;
}

function requestContextIssue(context: unknown): Issue | undefined {
  if (!isRecord(context)) return { Path: 'requestContext', Message: wrongType(context, 'an object') };
  const http = context.http;
  if (!isRecord(http)) return { Path: 'requestContext.http', Message: wrongType(http, 'an object') };
  const method = http.method;
  if (typeof method !== 'string') return { Path: 'requestContext.http.method', Message: wrongType(method, 'a string') };
  return method === '' ? { Path: 'requestContext.http.method', Message: 'must not be empty' } : undefined;
}

/**
 * What keeps an HTTP-shaped event from being a well-formed FC 3.0 HTTP trigger event, one
 * issue per bad field (empty when it is one): only the fields the function reads, plus the
 * version. Hand-written rather than a schema: it runs on every warm HTTP request.
 */
export function httpEventIssues(event: Record<string, unknown>): Issue[] {
  const issues: Issue[] = [];
  if (event.version !== 'v1') issues.push({ Path: 'version', Message: wrongType(event.version, '"v1"') });
  if (typeof event.rawPath !== 'string') issues.push({ Path: 'rawPath', Message: wrongType(event.rawPath, 'a string') });
  const headers = stringMapIssue(event.headers, 'headers');
  if (headers) issues.push(headers);
  const query = stringMapIssue(event.queryParameters, 'queryParameters');
  if (query) issues.push(query);
  if (event.body !== undefined && typeof event.body !== 'string') issues.push({ Path: 'body', Message: 'must be a string' });
  if (event.isBase64Encoded !== undefined && typeof event.isBase64Encoded !== 'boolean') {
    issues.push({ Path: 'isBase64Encoded', Message: 'must be a boolean' });
  }
  const context = requestContextIssue(event.requestContext);
  if (context) issues.push(context);
  return issues;
}

/** An HTTP-shaped event as the HTTP trigger's, or InvalidParameterError naming each bad field. */
export function parseHttpEvent(event: Record<string, unknown>): FcHttpEvent {
  const issues = httpEventIssues(event);
  if (issues.length > 0) throw new InvalidParameterError(issues);
  return event as unknown as FcHttpEvent;
}

/** FC's timer event: `{triggerTime, triggerName, payload}`. */
export function isTimerEvent(value: Record<string, unknown>): boolean {
  return typeof value.triggerTime === 'string' && typeof value.triggerName === 'string' && 'payload' in value;
}
