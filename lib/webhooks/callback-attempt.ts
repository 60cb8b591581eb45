/**
 * One signed delivery attempt of a callback, judged for the retry engine
 * (lib/core/retry-policy.ts): a 2xx delivers; network errors, timeouts, 5xx and 429 are worth
 * another try (429 and 5xx honouring `retry-after`); anything else, 3xx included, is final.
 */
import type { AttemptOutcome, FailureFacts } from '../core/retry-policy';
import { CallbackTimeoutError, errorText } from './errors';
import { postPinned, type PinnedResponse, type PinnedTarget } from './pinned-request';
import { signWebhook } from './verify';

const USER_AGENT = 'withdraw-script-review-callback/1';

/** A failed attempt, carrying what its report says. */
export interface DeliveryFailure extends FailureFacts {
  code: 'CallbackFailed' | 'CallbackTimeout';
  message: string;
  retryable: boolean;
}

/** The status code of a delivered callback, or why it was not. */
export type DeliveryOutcome = AttemptOutcome<number, DeliveryFailure>;

export interface DeliveryRequest {
  url: URL;
  body: Buffer;
  /** `whsec_` secret, already validated; without it the callback is sent unsigned. */
  secret: string | undefined;
  /** The same on every attempt, so the receiver can de-duplicate. */
  webhookId: string;
  nowMs(): number;
}

/** `retry-after` as delay in ms from `nowMs`: delta-seconds or an HTTP date. */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const dateMs = Date.parse(text);
  return Number.isNaN(dateMs) ? undefined : Math.max(0, dateMs - nowMs);
}

/** Fresh timestamp and signature per attempt, over the exact body bytes. */
function signedHeaders(request: DeliveryRequest): Record<string, string> {
  const timestampSeconds = Math.floor(request.nowMs() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(request.body.length),
    'user-agent': USER_AGENT,
    'webhook-id': request.webhookId,
    'webhook-timestamp': String(timestampSeconds),
  };
  if (request.secret !== undefined) headers['webhook-signature'] = signWebhook(request.secret, request.webhookId, timestampSeconds, request.body);
  return headers;
}

function fromResponse(response: PinnedResponse, nowMs: number): DeliveryOutcome {
  const { statusCode } = response;
  if (statusCode >= 200 && statusCode < 300) return { ok: true, value: statusCode };
  const retryable = statusCode >= 500 || statusCode === 429;
  const retryAfterMs = retryable ? parseRetryAfterMs(response.retryAfter, nowMs) : undefined;
  const redirect = statusCode >= 300 && statusCode < 400;
  return {
    ok: false,
    failure: {
      code: 'CallbackFailed',
      statusCode,
      message: redirect ? `Receiver answered ${statusCode} (redirects are not followed)` : `Receiver answered ${statusCode}`,
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  };
}

function fromError(error: unknown): DeliveryOutcome {
  const timedOut = error instanceof CallbackTimeoutError;
  return {
    ok: false,
    failure: {
      code: timedOut ? 'CallbackTimeout' : 'CallbackFailed',
      statusCode: undefined,
      message: timedOut ? `Callback timed out: ${error.message}` : `Callback request failed: ${errorText(error)}`,
      retryable: true,
    },
  };
}

/** One POST of the signed callback to `target`, within `timeoutMs`; what the network does is an outcome, not a rejection. */
export async function attemptDelivery(request: DeliveryRequest, target: PinnedTarget, timeoutMs: number): Promise<DeliveryOutcome> {
  const headers = signedHeaders(request);
  try {
    const response = await postPinned(request.url, target, headers, request.body, timeoutMs);
    return fromResponse(response, request.nowMs());
  } catch (error) {
    return fromError(error);
  }
}
