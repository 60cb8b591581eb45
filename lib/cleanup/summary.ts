import type { Logger } from '../core/logger';
import type { CleanupConfig } from '../runtime/config';
import type { CallbackReport } from '../webhooks/callback';
import type { WithdrawalItem, WithdrawResult } from '../withdraw/withdraw-item';
import type { ChunkResult } from './fanout';
import type { ListingFailure } from './list';
import type { CleanupRequest } from './request';
import type { StaleReview } from './select';

/** What a run did, in counts: the summary log line and the callback carry it. */
export interface CleanupSummary {
  Success: boolean;
  /** The invocation's request id. */
  RequestId: string;
  InstanceId: string;
  Mode: CleanupConfig['CLEANUP_MODE'];
  DryRun: boolean;
  OlderThanMinutes: number;
  MaxWithdrawals?: number;
  /** Scripts ListScripts returned. */
  Listed: number;
  /** Stale reviews, before the MaxWithdrawals cap. */
  Eligible: number;
  /** Stale reviews this run took on (oldest first, capped). */
  Selected: number;
  /** Listed but not selected: other states, younger reviews, or beyond the cap. */
  Skipped: number;
  /** Inline mode: withdrawals that succeeded. */
  Withdrawn: number;
  /** Inline: withdrawals that failed; fan-out: items whose chunk was not queued. */
  Failed: number;
  /** Fan-out mode: items queued for the withdraw function. */
  Dispatched: number;
  /** True when the deadline stopped the run before every selected item was started. */
  Truncated: boolean;
  /** Selected items never started; the next run lists them again. */
  Remaining: WithdrawalItem[];
  durationMs: number;
  /** Why the run failed as a whole (the listing); absent otherwise. */
  Code?: string;
  Message?: string;
  ListingFailure?: ListingFailure;
}

export interface CleanupResult extends CleanupSummary {
  /** Inline mode: a result per started withdrawal. */
  Results?: WithdrawResult[];
  /** Fan-out mode: a result per started chunk. */
  Chunks?: ChunkResult[];
  /** Dry run: what would have been withdrawn. */
  Candidates?: StaleReview[];
  Callback?: CallbackReport;
}

/** What a mode's work ends as: the counts the summary takes, and the per-item detail. */
export interface Outcome {
  summary: Pick<CleanupSummary, 'Withdrawn' | 'Failed' | 'Dispatched' | 'Remaining'>;
  detail: Pick<CleanupResult, 'Results' | 'Chunks' | 'Candidates'>;
}

/** The fields that say which run this was, the same whatever happened. */
type RunHead = Pick<CleanupSummary, 'RequestId' | 'InstanceId' | 'Mode' | 'DryRun' | 'OlderThanMinutes' | 'MaxWithdrawals'>;

export function runHead(requestId: string, request: CleanupRequest, mode: CleanupSummary['Mode']): RunHead {
  return {
    RequestId: requestId,
    InstanceId: request.InstanceId,
    Mode: mode,
    DryRun: request.DryRun,
    OlderThanMinutes: request.OlderThanMinutes,
    ...(request.MaxWithdrawals !== undefined ? { MaxWithdrawals: request.MaxWithdrawals } : {}),
  };
}

/** A run whose listing failed: nothing selected, nothing done, the failure named. */
export function listingFailedResult(head: RunHead, failure: ListingFailure, durationMs: number): CleanupResult {
  return {
    ...head,
    Success: false,
    Listed: 0,
    Eligible: 0,
    Selected: 0,
    Skipped: 0,
    Withdrawn: 0,
    Failed: 0,
    Dispatched: 0,
    Truncated: false,
    Remaining: [],
    durationMs,
    Code: failure.Code,
    Message: `ListScripts failed on page ${failure.PageNumber}: ${failure.Message}`,
    ListingFailure: failure,
  };
}

/** What the listing and the selection found. */
interface Counts {
  listed: number;
  eligible: number;
  selected: number;
}

/** A run that listed: it succeeded when nothing failed and everything selected was started. */
export function completedResult(head: RunHead, counts: Counts, outcome: Outcome, durationMs: number): CleanupResult {
  const truncated = outcome.summary.Remaining.length > 0;
  return {
    ...head,
    Success: outcome.summary.Failed === 0 && !truncated,
    Listed: counts.listed,
    Eligible: counts.eligible,
    Selected: counts.selected,
    Skipped: counts.listed - counts.selected,
    ...outcome.summary,
    Truncated: truncated,
    durationMs,
    ...outcome.detail,
  };
}

/** Posts a result to CALLBACK_URL (deadline and signing are the sender's); unchanged when none is set. */
export type SendCallback = (cfg: CleanupConfig, url: string, payload: unknown) => Promise<CallbackReport>;

export async function withCallback<T extends object>(cfg: CleanupConfig | undefined, result: T, send: SendCallback): Promise<T & { Callback?: CallbackReport }> {
  if (!cfg?.CALLBACK_URL) return result;
  return { ...result, Callback: await send(cfg, cfg.CALLBACK_URL, result) };
}

/** The summary line: per-item detail already has a line each, so this one carries counts. */
export function logSummary(log: Logger, result: CleanupResult): void {
  const { Results: _results, Chunks: _chunks, Candidates: _candidates, Remaining, Callback, ...summary } = result;
  const level = result.Code !== undefined || result.Failed > 0 ? 'error' : result.Truncated ? 'warn' : 'info';
  log[level](result.Success ? 'cleanup finished' : 'cleanup finished with problems', {
    ...summary,
    Remaining: Remaining.length,
    ...(Callback ? { callbackDelivered: Callback.Delivered, callbackCode: Callback.Code } : {}),
  });
}
