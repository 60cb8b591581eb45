import { InvalidParameterError, type Issue } from '../core/errors';
import { isRecord } from '../core/records';
import { pathText } from '../core/schema';
import { UnsupportedMediaTypeError } from '../fc/errors';
import type { HttpRequest } from '../fc/http-trigger';
import { parseWithdrawalRequest, type WithdrawalRequest } from './items';

/** What a request may name outside a JSON body: the two ids and where to call back. */
const FLAT_KEYS: ReadonlySet<string> = new Set(['InstanceId', 'ScriptId', 'CallbackUrl']);
const ID_KEYS = ['InstanceId', 'ScriptId'] as const;
const UNSIGNED_QUERY = 'is in the query string, which the signature does not cover: send it in the signed body';
const FORM_LOOKS_LIKE_JSON =
  "looks like JSON but was read as application/x-www-form-urlencoded (curl's default for -d): send it with -H 'content-type: application/json'";

/**
 * What an HTTP request asks for. A signed request is read from its signed body alone: the
 * Standard Webhooks signature covers `id.timestamp.body`, so a query string is anybody's to
 * change, and naming an id or CallbackUrl there is refused. An unsigned request (local mode,
 * ALLOW_UNSIGNED_HTTP) may use the query when its body is empty; ids in both places must agree.
 */
export function parseHttpWithdrawal(request: HttpRequest, signed: boolean): WithdrawalRequest {
  const query = pickQuery(request.query);
  if (signed) refuseQuery(query);
  if (request.rawBody.length === 0) return parseWithdrawalRequest(query);
  const payload = parseBody(request);
  refuseDisagreement(query, payload); // a signed request's query names nothing by now (refuseQuery)
  return parseWithdrawalRequest(payload);
}

function parseBody(request: HttpRequest): unknown {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const text = request.rawBody.toString('utf8');
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return JSON.parse(text);
    } catch {
      throw new InvalidParameterError([{ Path: 'body', Message: 'is not valid JSON' }]);
    }
  }
  if (mediaType === 'application/x-www-form-urlencoded') return parseForm(text);
  throw new UnsupportedMediaTypeError(mediaType || '(none)');
}

/**
 * A form names each flat field at most once and nothing else. The content type is not signed:
 * read leniently, a signed JSON body whose CallbackUrl carries `&ScriptId=…` would name another
 * script when replayed as a form.
 */
function parseForm(text: string): Record<string, string> {
  // curl -d without a content type sends JSON as a form: say so, instead of "InstanceId: is required".
  if (/^\s*[{[]/.test(text)) {
    throw new InvalidParameterError([{ Path: 'body', Message: FORM_LOOKS_LIKE_JSON }]);
  }
  const form: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const [key, value] of new URLSearchParams(text)) {
    if (!FLAT_KEYS.has(key)) issues.push({ Path: pathText([key]), Message: 'is not a field of a withdrawal (InstanceId, ScriptId, CallbackUrl)' });
    else if (key in form) issues.push({ Path: key, Message: 'is given more than once' });
    else form[key] = value;
  }
  if (issues.length > 0) throw new InvalidParameterError(issues);
  return form;
}

function refuseQuery(query: Record<string, string>): void {
  const issues = Object.keys(query).map((key) => ({ Path: key, Message: UNSIGNED_QUERY }));
  if (issues.length > 0) throw new InvalidParameterError(issues);
}

/** A request that names two different scripts is refused rather than guessed at. */
function refuseDisagreement(query: Record<string, string>, payload: unknown): void {
  for (const key of ID_KEYS) {
    const inBody = isRecord(payload) ? payload[key] : undefined;
    if (query[key] !== undefined && query[key] !== inBody) {
      throw new InvalidParameterError([{ Path: key, Message: 'differs between the query string and the body' }]);
    }
  }
}

function pickQuery(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FLAT_KEYS) if (query[key] !== undefined) out[key] = query[key];
  return out;
}
