import {
  InvalidParameterError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  type WithdrawServiceError,
} from '../core/errors';
import { parseWithdrawalRequest, type WithdrawalRequest } from '../withdraw/items';
import type { FcHttpEvent } from '../withdraw/triggers';

export const MAX_BODY_BYTES = 64 * 1024;

/** What FC 3.0 expects back from an HTTP-triggered function. */
export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export interface HttpRequest {
  method: string;
  /** Header names lower-cased: FC passes them as the client sent them. */
  headers: Record<string, string>;
  query: Record<string, string>;
  rawBody: Buffer;
}

export function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = String(value);
  return out;
}

/**
 * Method and size are checked before anything else reads the body, so an oversized
 * or wrong-method request costs no parsing and reveals nothing.
 */
export function readHttpRequest(event: FcHttpEvent): HttpRequest {
  const method = event.requestContext.http.method.toUpperCase();
  if (method !== 'POST') throw new MethodNotAllowedError(method);
  const body = event.body ?? '';
  // base64 expands 3 bytes to 4 characters: refuse before decoding a huge string.
  const approxBytes = event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
  if (approxBytes > MAX_BODY_BYTES + 2) throw new PayloadTooLargeError(approxBytes, MAX_BODY_BYTES);
  const rawBody = Buffer.from(body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (rawBody.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(rawBody.length, MAX_BODY_BYTES);
  return { method, headers: lowerCaseHeaders(event.headers), query: event.queryParameters ?? {}, rawBody };
}

const ID_KEYS = ['InstanceId', 'ScriptId'] as const;

/**
 * The body (JSON or form) or, when there is none, the query string. Ids in both
 * places must agree: a request that names two different scripts is refused rather
 * than guessed at.
 */
export function parseHttpWithdrawal(request: HttpRequest): WithdrawalRequest {
  if (request.rawBody.length === 0) return parseWithdrawalRequest(pickQuery(request.query));
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  let payload: unknown;
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      payload = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw new InvalidParameterError([{ Path: 'body', Message: 'is not valid JSON' }]);
    }
  } else if (mediaType === 'application/x-www-form-urlencoded') {
    payload = Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8')));
  } else {
    throw new UnsupportedMediaTypeError(mediaType || '(none)');
  }
  const query = pickQuery(request.query);
  for (const key of ID_KEYS) {
    const inBody = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
    if (query[key] !== undefined && query[key] !== inBody) {
      throw new InvalidParameterError([{ Path: key, Message: 'differs between the query string and the body' }]);
    }
  }
  return parseWithdrawalRequest(payload);
}

function pickQuery(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [...ID_KEYS, 'CallbackUrl'] as const) if (query[key] !== undefined) out[key] = query[key];
  return out;
}

export function jsonResponse(statusCode: number, body: unknown, requestId: string, extraHeaders: Record<string, string> = {}): FcHttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-fc-request-id': requestId, ...extraHeaders },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** Our own refusals, in the API's error shape so clients parse one format. */
export function errorBody(error: WithdrawServiceError, requestId: string): Record<string, unknown> {
  return {
    Success: false,
    HttpStatusCode: error.statusCode,
    Code: error.code,
    Message: error.message,
    RequestId: requestId,
    ...(error instanceof InvalidParameterError ? { Issues: error.issues } : {}),
  };
}

export function errorResponse(error: WithdrawServiceError, requestId: string): FcHttpResponse {
  const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: 'POST' } : {};
  return jsonResponse(error.statusCode, errorBody(error, requestId), requestId, headers);
}
