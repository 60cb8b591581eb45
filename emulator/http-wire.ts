/**
 * The HTTP edge: turns a Node request into the parts the gateway judges, and an answer back
 * into bytes. No decisions here.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseAuthorization, type Acs3Authorization, type ReceivedRequest } from './acs3';
import type { Answer, Params } from './answers';

/** A request as received, with what routing, authentication and the actions need from it. */
export interface IncomingCall {
  /** What the signature is checked against: decoded query, raw body. */
  readonly received: ReceivedRequest;
  /** Query plus form body (query wins): the API's parameters. */
  readonly params: Params;
  /** The `x-acs-action` header, '' when absent. */
  readonly action: string;
  readonly version: string | undefined;
  /** Undefined when absent or not a well-formed ACS3 authorization; see `hasAuthorization`. */
  readonly auth: Acs3Authorization | undefined;
  readonly hasAuthorization: boolean;
}

const HTML_PAGE = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

export async function readCall(req: IncomingMessage): Promise<IncomingCall> {
  const body = await readBody(req);
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const pathname = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = queryStart < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(queryStart + 1)));
  const params: Params = isForm(req) && body.length > 0 ? { ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))), ...query } : query;
  const authorization = headerString(req.headers, 'authorization');
  return {
    received: { method: req.method ?? '', pathname, query, headers: req.headers, body },
    params,
    action: headerString(req.headers, 'x-acs-action') ?? '',
    version: headerString(req.headers, 'x-acs-version'),
    auth: authorization === undefined ? undefined : parseAuthorization(authorization),
    hasAuthorization: authorization !== undefined,
  };
}

export function writeAnswer(res: ServerResponse, answer: Extract<Answer, { kind: 'json' | 'html' }>, requestId: string): void {
  const isJson = answer.kind === 'json';
  const payload = isJson ? JSON.stringify(answer.body) : HTML_PAGE;
  const headers: Record<string, string | number> = {
    'content-type': isJson ? 'application/json;charset=utf-8' : 'text/html',
    'content-length': Buffer.byteLength(payload),
    'x-acs-request-id': requestId,
  };
  if (isJson && answer.retryAfterSeconds !== undefined) headers['retry-after'] = answer.retryAfterSeconds;
  res.writeHead(isJson ? answer.status : (answer.status ?? 200), headers);
  res.end(payload);
}

/** A header's single string value; anything else (absent, or an array) counts as absent. */
export function headerString(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isForm(req: IncomingMessage): boolean {
  return req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
}
