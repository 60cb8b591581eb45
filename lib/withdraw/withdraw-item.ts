import type { Clock } from '../core/clock';
import type { LogFields, Logger } from '../core/logger';
import { attemptCall, mayHaveActed, textField, type CallFailure } from '../outboundbot/call';
import type { ApiBody, OutboundBotClient } from '../outboundbot/client';
import { endedByDeadline, isRetryable, runWithRetry, type AttemptOutcome, type RetryPolicy, type RetryRun } from '../core/retry-policy';
import { union } from '../idempotency/store';
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
  /** Epoch ms after which no attempt may start or still be running (the timeline's `workEndMs`). */
  workEndMs: number;
  /** Across instances, the script's lock (lib/idempotency/script-lock.ts); without it none is taken. */
  exclusive?: ExclusiveSettings;
  /** When an earlier run's attempts got no definite answer: a refusal now may be one of them succeeding. */
  unanswered?: UnansweredWindow;
  /** The script's state before this withdrawal, when known (the cleanup's listing). */
  statusBefore?: string;
  /** The UpdateTime of the last withdrawal another request made and saw answered (the lock's mark): never ours. */
  withdrawnElsewhereAtMs?: number;
}

/** A withdrawal, and when attempts without an answer could have acted, if any did (a retry needs it). */
export interface TrackedWithdrawal {
  result: WithdrawResult;
  unanswered?: UnansweredWindow;
  /** A holder's outcome adopted without an attempt: the lock's mark, read with it (see WithdrawDeps). */
  withdrawnElsewhereAtMs?: number;
}

function attemptWithdrawal(item: WithdrawalItem, deps: WithdrawDeps, remainingMs: number): Promise<AttemptOutcome<ApiBody, CallFailure>> {
  return attemptCall(deps.client, 'WithdrawScriptReview', { InstanceId: item.InstanceId, ScriptId: item.ScriptId }, deps.readTimeoutMs, remainingMs);
}

/** One withdrawal with our retry policy; never throws for an upstream failure, it reports it. */
export async function withdrawItem(item: WithdrawalItem, deps: WithdrawDeps): Promise<WithdrawResult> {
  return (await withdrawTracked(item, deps)).result;
}

/** {@link withdrawItem}, holding the script's lock when `deps.exclusive` is given. */
export async function withdrawTracked(item: WithdrawalItem, deps: WithdrawDeps): Promise<TrackedWithdrawal> {
  if (!deps.exclusive) return attemptAll(item, deps);
  // The lock lapses when this withdrawal cannot be running any more, not at a long invocation's
  // end: a killed cleanup (600 s) must not hold a webhook's script for ten minutes. Attempts end
  // by that lapse too: an instance stalled after taking the lock must not call once another may.
  const holdForMs = longestWithdrawalMs(deps.policy, deps.readTimeoutMs);
  // Hot path: Object.assign, not a spread (docs/ARCHITECTURE.md, Conventions).
  const tracked = await exclusively(item, Object.assign({}, deps.exclusive, { holdForMs }), deps.clock, (lockUntilMs, withdrawnElsewhereAtMs) =>
    attemptAll(item, Object.assign({}, deps, { workEndMs: Math.min(deps.workEndMs, lockUntilMs), withdrawnElsewhereAtMs })),
  );
  // Another holder's refusal says the script is not under review, not who withdrew it: with
  // attempts of our own that may have acted, the script's state tells (no lock needed to read).
  if (tracked.result.Attempts === 0 && deps.unanswered && isRefusal(tracked.result)) {
    return settleRefusal(item, Object.assign({}, deps, { withdrawnElsewhereAtMs: tracked.withdrawnElsewhereAtMs }), tracked.result, deps.unanswered);
  }
  return tracked;
}

/** Every attempt at its full read timeout with the longest backoff between, and the reconciling read. */
export function longestWithdrawalMs(policy: RetryPolicy, readTimeoutMs: number): number {
  return policy.maxAttempts * (readTimeoutMs + policy.maxDelayMs) + readTimeoutMs;
}

async function attemptAll(item: WithdrawalItem, deps: WithdrawDeps): Promise<TrackedWithdrawal> {
  let unanswered = deps.unanswered;
  const run = await runWithRetry(
    async (remainingMs) => {
      const startedMs = deps.clock.nowMs();
      const outcome = await attemptWithdrawal(item, deps, remainingMs);
      if (!outcome.ok && mayHaveActed(outcome.failure)) {
        unanswered = union(unanswered, { sinceMs: startedMs, untilMs: startedMs + deps.readTimeoutMs + RECONCILE_SLACK_MS });
      }
      return outcome;
    },
    deps.policy,
    deps.clock,
    deps.workEndMs,
  );
  const result = resultOf(item, run);
  if (unanswered === undefined || !isRefusal(result)) return { result, unanswered };
  return settleRefusal(item, deps, result, unanswered);
}

/** A refusal after attempts that may have acted, as reading the script settles it. */
async function settleRefusal(item: WithdrawalItem, deps: WithdrawDeps, refusal: WithdrawResult, unanswered: UnansweredWindow): Promise<TrackedWithdrawal> {
  const remainingMs = deps.workEndMs - deps.clock.nowMs();
  const { statusBefore, withdrawnElsewhereAtMs } = deps;
  const reconciliation = await reconcileRefusal({ client: deps.client, item, unanswered, statusBefore, withdrawnElsewhereAtMs, readTimeoutMs: deps.readTimeoutMs, remainingMs });
  return { result: settledBy(reconciliation, refusal), unanswered };
}

const isRefusal = (result: WithdrawResult): boolean => !result.Success && !result.Retryable && result.HttpStatusCode >= 400 && result.HttpStatusCode < 500;

/**
 * A refusal after an attempt without a definite answer, as the read of the script settles it:
 * ours, the refusal kept, unconfirmed (the review ended, by us or a reviewer), a final refusal
 * of the read itself, or retryable when the read got no answer (the retry keeps the window).
 */
function settledBy(reconciliation: Reconciliation, refusal: WithdrawResult): WithdrawResult {
  const after = 'after an attempt that got no definite answer';
  switch (reconciliation.verdict) {
    case 'not-ours':
      return refusal;
    case 'ours':
      return {
        ...refusal,
        Success: true,
        HttpStatusCode: 200,
        Code: 'OK',
        Message: `The review was withdrawn (now ${String(reconciliation.script.Status)}) while an earlier attempt whose answer was lost could have acted; the retry was told ${refusal.Code}`,
        Script: reconciliation.script,
        Reconciled: true,
      };
    case 'unconfirmed':
      return {
        ...refusal,
        HttpStatusCode: 409,
        Code: 'ReviewEndedUnconfirmed',
        Message: `The review ended (now ${String(reconciliation.script.Status)}) while an attempt without a definite answer could have acted: an approval leaves the same state, so whether this withdrawal ended it cannot be told`,
        Script: reconciliation.script,
      };
    case 'refused':
      return {
        ...refusal,
        HttpStatusCode: reconciliation.statusCode,
        Code: reconciliation.code,
        Message: `${refusal.Message} (${after}; reading the script to tell whether that attempt withdrew it was refused: ${reconciliation.message}${reconciliation.statusCode === 403 ? '; the role needs outboundbot:DescribeScript' : ''})`,
      };
    case 'unknown':
      return {
        ...refusal,
        HttpStatusCode: 502,
        Message: `${refusal.Message} (${after}; reading the script to tell whether that attempt withdrew it failed: ${reconciliation.reason})`,
        Retryable: true,
      };
  }
}

/**
 * The ids are written out, not spread: on Node 20 every property an object literal defines after
 * a spread is a runtime call (~0.7 µs each here: ~6 µs a warm withdrawal for this one literal).
 */
function resultOf(item: WithdrawalItem, run: RetryRun<ApiBody, CallFailure>): WithdrawResult {
  const { InstanceId, ScriptId } = item;
  const Attempts = run.attempts;
  if (run.outcome?.ok) {
    const body = run.outcome.value;
    const script = body.Script;
    return {
      InstanceId,
      ScriptId,
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
      InstanceId,
      ScriptId,
      Success: false,
      HttpStatusCode: 504,
      ...deadlineExceeded('before OutboundBot answered successfully', failure),
      RequestId: failure?.requestId,
      Attempts,
      Retryable: true,
    };
  }
  return {
    InstanceId,
    ScriptId,
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
