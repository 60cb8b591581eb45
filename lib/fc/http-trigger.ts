import { errorBody, type ServiceError } from '../core/errors';
import { MethodNotAllowedError, PayloadTooLargeError } from './errors';
import type { FcHttpEvent } from './events';

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

function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/**
 * Method and size are checked before anything else reads the body, so an oversized
 * or wrong-method request costs no parsing and reveals nothing. Total over well-formed
 * events (`parseHttpEvent` checked the shape): it throws only these two refusals.
 */
export function readHttpRequest(event: FcHttpEvent): HttpRequest {
  const method = event.requestContext.http.method.toUpperCase();
  if (method !== 'POST') throw new MethodNotAllowedError(method);
  const body = event.body ?? '';
  // base64 expands 3 bytes to 4 characters: refuse before decoding a huge string.
  const approxBytes = event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
  if (approxBytes > MAX_BODY_BYTES + 2) throw new PayloadTooLargeError(approxBytes, MAX_BODY_BYTES);
  const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body); // a string is read as UTF-8
  if (rawBody.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(rawBody.length, MAX_BODY_BYTES);
  return { method, headers: lowerCaseHeaders(event.headers), query: event.queryParameters ?? {}, rawBody };
}

export function jsonResponse(statusCode: number, body: unknown, requestId: string, extraHeaders: Record<string, string> = {}): FcHttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-fc-request-id': requestId, ...extraHeaders },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

export function errorResponse(error: ServiceError, requestId: string): FcHttpResponse {
  const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: 'POST' } : {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return jsonResponse(error.statusCode, errorBody(error, requestId), requestId, headers);
}
