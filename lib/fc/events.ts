/** FC 3.0 event envelopes: what FC hands a Node.js handler, before any trigger reads its items. */
import { InvalidParameterError, type Issue } from '../core/errors';
import { isRecord } from '../core/records';
import { issuesOf, onFirstUse, typeMessage } from '../core/schema';
import * as z from 'zod/mini';

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
  if (text.length > limit) return text.length;
  // Stryker disable next-line EqualityOperator: the one limit, 1 MiB, is no multiple of 3, so `length * 3 < limit` decides alike
  if (text.length * 3 <= limit) return text.length;
  return Buffer.byteLength(text);
}

/** An event too large to parse: its size, and whether its bytes name an HTTP trigger's fields, so the 413 is an HTTP answer. */
export function oversizedEvent(event: unknown): { bytes: number; http: boolean } | undefined {
  if (!(event instanceof Uint8Array) && typeof event !== 'string') return undefined;
  // Stryker disable next-line ConditionalExpression: utf8LengthPast of a Uint8Array is its byteLength too (its length, or Buffer.byteLength of it); `!== 'string'` stays live and fails for strings
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
  // Stryker disable next-line EqualityOperator: one more turn at text.length reads no character (NaN or undefined), which is no brace and no quote
  for (let at = 0; at < text.length; at++) {
    const code = text.code(at);
    if (code === 0x7b || code === 0x5b) depth++;
    else if (code === 0x7d || code === 0x5d) depth--;
    if (code !== QUOTE) continue;
    let end = text.nextQuote(at + 1);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: nextQuote answers -1 or a position past `at`, never 0, and isEscaped(-1) reads before the text, which is no backslash
    while (end > 0 && isEscaped(text, end)) end = text.nextQuote(end + 1);
    if (end === -1) break;
    let next = end + 1;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: reading at text.length gives NaN or undefined, which is no space, so the bound only saves a read
    while (next < text.length && isSpace(text.code(next))) next++;
    if (depth === 1 && text.code(next) === COLON) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the bound keeps the set small, which no answer shows: the two keys asked about have 7 and 14 characters
      if (end - at <= 32) keys.add(text.slice(at + 1, end));
    }
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

const wrongType = (expected: string) => typeMessage(`must be ${expected}`);
/** A map of strings. zod's record skips an own `__proto__` key (JSON.parse makes one): the raw value is checked for it first. */
const stringMap = () =>
  z.optional(
    z.pipe(
      z.custom((map) => !isRecord(map) || !Object.hasOwn(map, '__proto__') || typeof map.__proto__ === 'string', { message: 'must be a string', path: ['__proto__'] }),
      z.record(z.string(), z.string({ error: 'must be a string' }), { error: 'must be an object of strings' }),
    ),
  );

/**
 * The FC 3.0 HTTP trigger event, as far as the function reads it: only those fields, plus the
 * version; anything else FC adds passes untouched.
 */
const httpEventSchema = onFirstUse(() =>
  z.object({
    version: z.literal('v1', { error: wrongType('"v1"') }),
    rawPath: z.string({ error: wrongType('a string') }),
    headers: stringMap(),
    queryParameters: stringMap(),
    body: z.optional(z.string({ error: 'must be a string' })),
    isBase64Encoded: z.optional(z.boolean({ error: 'must be a boolean' })),
    requestContext: z.object(
      {
        http: z.object(
          { method: z.string({ error: wrongType('a string') }).check(z.minLength(1, 'must not be empty')) },
          { error: wrongType('an object') },
        ),
      },
      { error: wrongType('an object') },
    ),
  }),
);

/**
 * What keeps an HTTP-shaped event from being a well-formed FC 3.0 HTTP trigger event, one issue
 * per bad field (empty when it is one); a map by its first bad entry only, so a sender's
 * thousand bad headers make one line of the answer, not a thousand. (Only the two maps can
 * yield more than one issue, so this is the first issue of each top-level field.)
 */
export function httpEventIssues(event: Record<string, unknown>): Issue[] {
  const result = httpEventSchema().safeParse(event);
  if (result.success) return [];
  const named = new Set<PropertyKey>();
  const firstPerField = result.error.issues.filter(({ path }) => !named.has(path[0]!) && !!named.add(path[0]!));
  return issuesOf({ issues: firstPerField });
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
