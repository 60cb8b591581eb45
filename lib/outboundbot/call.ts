import { isRecord } from '../core/records';
import type { AttemptOutcome } from '../core/retry-policy';
import { type ApiBody, type OutboundBotAction, type OutboundBotClient } from './client';
import { OutboundBotCallError } from './errors';

/** A failed attempt of any action, as the retry policy and the result need it. */
export interface CallFailure {
  code: string;
  statusCode: number | undefined;
  message: string;
  requestId: string | undefined;
}

/**
 * Whether OutboundBot may have carried out the action although the attempt failed: no answer at
 * all, or a 5xx, which a gateway also sends (an HTML 502/504, a JSON ServiceTimeout) after the
 * service behind it committed. A 4xx, throttling, or a 2xx saying Success: false is definite.
 */
export const mayHaveActed = (failure: Pick<CallFailure, 'statusCode'>): boolean => failure.statusCode === undefined || failure.statusCode >= 500;

/** A non-empty string field of an answer, else undefined. */
export const textField = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * A 2xx that says `Success: false` is a failure too. It is a definite answer, so its
 * own HttpStatusCode and Code decide whether a retry could help (throttling, 5xx).
 */
function fromAnswer(body: ApiBody): AttemptOutcome<ApiBody, CallFailure> {
  if (body.Success === true) return { ok: true, value: body };
  return {
    ok: false,
    failure: {
      code: textField(body.Code) ?? 'UnsuccessfulResponse',
      statusCode: typeof body.HttpStatusCode === 'number' ? body.HttpStatusCode : 200,
      message: textField(body.Message) ?? 'OutboundBot answered Success: false',
      requestId: textField(body.RequestId),
    },
  };
}

/**
 * One attempt of any action, classified for {@link runWithRetry}: the withdrawal and the
 * cleanup's ListScripts paging judge answers by the same rules.
 */
export async function attemptCall(
  client: OutboundBotClient,
  action: OutboundBotAction,
  query: Record<string, string>,
  readTimeoutMs: number,
  remainingMs: number,
): Promise<AttemptOutcome<ApiBody, CallFailure>> {
  try {
    return fromAnswer(await client.call(action, query, Math.min(readTimeoutMs, remainingMs)));
  } catch (error) {
    if (!(error instanceof OutboundBotCallError)) throw error;
    return { ok: false, failure: { code: error.code, statusCode: error.statusCode, message: error.message, requestId: error.requestId } };
  }
}

/** One DescribeScript attempt: the answer's `Script` record (undefined when it carries none), or why it failed. */
export async function describeScript(
  client: OutboundBotClient,
  item: { InstanceId: string; ScriptId: string },
  readTimeoutMs: number,
  remainingMs: number,
): Promise<AttemptOutcome<Record<string, unknown> | undefined, CallFailure>> {
  const outcome = await attemptCall(client, 'DescribeScript', { InstanceId: item.InstanceId, ScriptId: item.ScriptId }, readTimeoutMs, remainingMs);
  return outcome.ok ? { ok: true, value: isRecord(outcome.value.Script) ? outcome.value.Script : undefined } : outcome;
}
