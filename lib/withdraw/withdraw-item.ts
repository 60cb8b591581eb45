import type { Clock } from '../core/clock';
import type { LogFields, Logger } from '../core/logger';
import { attemptCall, textField, type CallFailure } from '../outboundbot/call';
import type { ApiBody, OutboundBotClient } from '../outboundbot/client';
import { endedByDeadline, isRetryable, runWithRetry, type AttemptOutcome, type RetryPolicy, type RetryRun } from '../core/retry-policy';
import { exclusively, type ExclusiveSettings } from './exclusive';
import { RECONCILE_SLACK_MS, reconcileRefusal, type Reconciliation, type UnansweredWindow } from './reconcile';
import { deadlineExceeded } from '../core/deadline-exceeded';
import type { WithdrawalItem } from './items';
import type { WithdrawResult } from './result-schema';

/** One script to withdraw, in the API's own names: the output of `itemSchema` (lib/withdraw/items.ts). */
export type { WithdrawalItem } from './items';

/** A result per item: the API's shape, plus the ids it was for and how many attempts it took (lib/withdraw/result-schema.ts). */
export type { WithdrawResult } from './result-schema';

export interface WithdrawDeps {
  client: OutboundBotClient;
  clock: Clock;
  policy: RetryPolicy;
  readTimeoutMs: number;
  /** Epoch ms after which no attempt may start or still be running. */
  deadlineMs: number;
  /** Across instances, the script's lock (lib/idempotency/script-lock.ts); without it none is taken. */
  exclusive?: ExclusiveSettings;
  /** When an earlier run's attempts got no answer: a refusal now may be one of them succeeding. */
  unanswered?: UnansweredWindow;
}

/** A withdrawal, and when attempts without an answer could have acted, if any did (a retry needs it). */
export interface TrackedWithdrawal {
  result: WithdrawResult;
  unanswered?: UnansweredWindow;
}

function attemptWithdrawal(item: WithdrawalItem, deps: WithdrawDeps, remainingMs: number): Promise<AttemptOutcome<ApiBody, CallFailure>> {
  return attemptCall(deps.client, 'WithdrawScriptReview', { InstanceId: item.InstanceId, ScriptId: item.ScriptId }, deps.readTimeoutMs, remainingMs);
}

/** One withdrawal with our retry policy; never throws for an upstream failure, it reports it. */
export async function withdrawItem(item: WithdrawalItem, deps: WithdrawDeps): Promise<WithdrawResult> {
  return (await withdrawTracked(item, deps)).result;
}

/** {@link withdrawItem}, holding the script's lock when `deps.exclusive` is given. */
export function withdrawTracked(item: WithdrawalItem, deps: WithdrawDeps): Promise<TrackedWithdrawal> {
  const withdraw = () => attemptAll(item, deps);
  if (!deps.exclusive) return withdraw();
  // The lock lapses when this withdrawal cannot be running any more, not at a long invocation's
  // end: a killed cleanup (600 s) must not hold a webhook's script for ten minutes.
  return exclusively(item, { ...deps.exclusive, holdForMs: longestWithdrawalMs(deps) }, deps.clock, withdraw);
}

/** Every attempt at its full read timeout with the longest backoff between, and the reconciling read. */
function longestWithdrawalMs(deps: WithdrawDeps): number {
  return deps.policy.maxAttempts * (deps.readTimeoutMs + deps.policy.maxDelayMs) + deps.readTimeoutMs;
}

async function attemptAll(item: WithdrawalItem, deps: WithdrawDeps): Promise<TrackedWithdrawal> {
  let unanswered = deps.unanswered;
  const run = await runWithRetry(
    async (remainingMs) => {
      const startedMs = deps.clock.nowMs();
      const outcome = await attemptWithdrawal(item, deps, remainingMs);
      if (!outcome.ok && outcome.failure.statusCode === undefined) {
        unanswered = { sinceMs: unanswered?.sinceMs ?? startedMs, untilMs: startedMs + deps.readTimeoutMs + RECONCILE_SLACK_MS };
      }
      return outcome;
    },
    deps.policy,
    deps.clock,
    deps.deadlineMs,
  );
  const result = resultOf(item, run);
  if (unanswered === undefined || !isRefusal(result)) return { result, unanswered };
  const remainingMs = deps.deadlineMs - deps.clock.nowMs();
  const reconciliation = await reconcileRefusal({ client: deps.client, item, unanswered, readTimeoutMs: deps.readTimeoutMs, remainingMs });
  return { result: settledBy(reconciliation, result), unanswered };
}

const isRefusal = (result: WithdrawResult): boolean => !result.Success && !result.Retryable && result.HttpStatusCode >= 400 && result.HttpStatusCode < 500;

/**
 * A refusal after an unanswered attempt: ours when the read says so; kept when it says otherwise;
 * retryable when the read got no answer, so the retry (which keeps the window) reads again.
 */
function settledBy(reconciliation: Reconciliation, refusal: WithdrawResult): WithdrawResult {
  if (reconciliation.verdict === 'not-ours') return refusal;
  if (reconciliation.verdict === 'unknown') {
    return {
      ...refusal,
      HttpStatusCode: 502,
      Message: `${refusal.Message} (after an attempt that got no answer; reading the script to tell whether that attempt withdrew it failed: ${reconciliation.reason})`,
      Retryable: true,
    };
  }
  return {
    ...refusal,
    Success: true,
    HttpStatusCode: 200,
    Code: 'OK',
    Message: `Withdrawn by an earlier attempt whose answer was lost (the retry was told ${refusal.Code})`,
    Script: reconciliation.script,
    Reconciled: true,
  };
}

function resultOf(item: WithdrawalItem, run: RetryRun<ApiBody, CallFailure>): WithdrawResult {
  const ids = { InstanceId: item.InstanceId, ScriptId: item.ScriptId };
  const Attempts = run.attempts;
  if (run.outcome?.ok) {
    const body = run.outcome.value;
    const script = body.Script;
    return {
      ...ids,
      Success: true,
      HttpStatusCode: 200,
      Code: textField(body.Code) ?? 'OK',
      Message: textField(body.Message) ?? 'Success',
      RequestId: textField(body.RequestId),
      Script: typeof script === 'object' && script !== null ? (script as Record<string, unknown>) : undefined,
      Attempts,
      Retryable: false,
    };
  }
  const failure = run.outcome?.failure;
  const retryable = failure === undefined || isRetryable(failure);
  if (endedByDeadline(run)) {
    return {
      ...ids,
      Success: false,
      HttpStatusCode: 504,
      ...deadlineExceeded('before OutboundBot answered successfully', failure),
      RequestId: failure?.requestId,
      Attempts,
      Retryable: true,
    };
  }
  return {
    ...ids,
    Success: false,
    // Upstream refusals pass through with their status; a failure that outlived its
    // retries, or an answer that refused with a 2xx, is a bad gateway.
    HttpStatusCode: !retryable && failure!.statusCode !== undefined && failure!.statusCode >= 400 ? failure!.statusCode : 502,
    Code: failure!.code,
    Message: failure!.message,
    RequestId: failure!.requestId,
    Attempts,
    Retryable: retryable,
  };
}

/** A result's log line, the same for the withdraw and the cleanup function; `fields` adds timing and context. */
export function logWithdrawal(log: Logger, result: WithdrawResult, fields: LogFields): void {
  const level = result.Success ? 'info' : result.Retryable ? 'error' : 'warn';
  log[level](result.Success ? 'withdrawal succeeded' : 'withdrawal failed', {
    InstanceId: result.InstanceId,
    ScriptId: result.ScriptId,
    Success: result.Success,
    Code: result.Code,
    HttpStatusCode: result.HttpStatusCode,
    upstreamRequestId: result.RequestId,
    Attempts: result.Attempts,
    Retryable: result.Retryable,
    ...fields,
  });
}
