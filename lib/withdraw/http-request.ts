import { InvalidParameterError } from '../core/errors';
import { UnsupportedMediaTypeError } from '../fc/errors';
import type { HttpRequest } from '../fc/http-trigger';
import { parseWithdrawalRequest, type WithdrawalRequest } from './items';

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
