import type { Logger } from '../core/logger';
import type { CleanupConfig } from '../runtime/config';
import type { CallbackReport } from '../webhooks/callback';
import type { LeftReview } from './left-review';
import type { WithdrawalItem, WithdrawResult } from '../withdraw/withdraw-item';
import type { ChunkResult } from './fanout';
import type { Listing, ListingAction, ListingFallback } from './list';
import type { ListingFailure, ListingIssue } from './pages';
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
  /** How the scripts were listed: QueryScriptsByStatus (review states only) unless it was refused, then ListScripts (every script). */
  Listing: ListingAction;
  /** Present when QueryScriptsByStatus was refused and the run listed with ListScripts: the refusal. */
  ListingFallback?: ListingFallback;
  /** Pages of `Listing` requested, a failed one included. */
  Pages: number;
  /** The TotalCount the last page announced; absent when the answers gave none. */
  TotalCount?: number;
  /**
   * The pages added up: no page repeated a ScriptId, only the last was short, as many scripts
   * were listed as TotalCount announced, and the page limit did not cut the listing. False too
   * when the listing failed. An incomplete run still withdraws what it selected, but is not a success.
   */
  Complete: boolean;
  /** Why `Complete` is false for a listing that did not fail: one entry per kind of problem. */
  ListingIssues?: ListingIssue[];
  /** Scripts the listing returned, each ScriptId once (with QueryScriptsByStatus, only reviews). */
  Listed: number;
  /** Stale reviews, before the MaxWithdrawals cap. */
  Eligible: number;
  /** Stale reviews this run took on (oldest first, capped). */
  Selected: number;
  /** Listed but not withdrawn by choice: other states, younger reviews, beyond the cap, or (LeftReview) out of review by the time of their withdrawal. */
  Skipped: number;
  /** Inline mode: selected scripts a reviewer acted on after the listing, refused as no longer under review; skipped, not failed. */
  LeftReview?: LeftReview[];
  /** Inline mode: withdrawals that succeeded. */
  Withdrawn: number;
  /** Inline: withdrawals that failed; fan-out: items whose chunk was not queued. */
  Failed: number;
  /** Fan-out mode: items queued for the withdraw function, by this run or (see AlreadyDispatched) before it. */
  Dispatched: number;
  /**
   * Fan-out mode only: the part of `Dispatched` whose chunks FC already held under their task id
   * (409): queued by an earlier attempt whose answer was lost, or by an earlier run of this
   * invocation that FC retried. Not queued a second time.
   */
  AlreadyDispatched?: number;
  /** Fan-out mode: items whose chunk FC may have queued, no attempt having been answered (the chunk's `Unconfirmed`). Not a success. */
  Unconfirmed?: number;
  /**
   * True when the run did not reach every stale review: the deadline stopped the listing or the
   * intake, or, with no MaxWithdrawals asked, more were stale than a run takes on (MAX_WITHDRAWALS_PER_RUN).
   */
  Truncated: boolean;
  /** Selected items never started, oldest first, at most MAX_LISTED_ITEMS of them; the next run lists them again. */
  Remaining: WithdrawalItem[];
  /** Selected items never started beyond those listed in `Remaining`: counted, not listed. */
  RemainingNotListed?: number;
  durationMs: number;
  /** Why the run failed as a whole (the listing); absent otherwise. */
  Code?: string;
  Message?: string;
  ListingFailure?: ListingFailure;
}

export interface CleanupResult extends CleanupSummary {
  /** Inline mode: a result per started withdrawal, at most MAX_LISTED_ITEMS of them (failures first when there are more). */
  Results?: WithdrawResult[];
  /** Inline mode: results beyond those listed, counted (each has its log line). */
  ResultsNotListed?: number;
  /** Fan-out mode: a result per started chunk. */
  Chunks?: ChunkResult[];
  /** Dry run: what would have been withdrawn, oldest first, at most MAX_LISTED_ITEMS of them. */
  Candidates?: StaleReview[];
  /** Dry run: candidates beyond that bound, counted, not listed (Selected has them all). */
  CandidatesNotListed?: number;
  Callback?: CallbackReport;
}

/** What a mode's work ends as: the counts the summary takes, and the per-item detail. */
export interface Outcome {
  summary: Pick<CleanupSummary, 'Withdrawn' | 'Failed' | 'Dispatched' | 'AlreadyDispatched' | 'Unconfirmed' | 'Remaining' | 'LeftReview'>;
  detail: Pick<CleanupResult, 'Results' | 'Chunks' | 'Candidates' | 'CandidatesNotListed'>;
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

/** What the summary says about the listing, whether it succeeded or not. */
export type ListingReport = Pick<CleanupSummary, 'Listing' | 'ListingFallback' | 'Pages' | 'TotalCount' | 'Complete' | 'ListingIssues'>;

/** Complete only when the listing succeeded with no issue; TotalCount, ListingFallback and ListingIssues only when known. */
export function listingReport(listing: Listing): ListingReport {
  const issues = listing.ok ? listing.issues : [];
  return {
    Listing: listing.action,
    ...(listing.fallback ? { ListingFallback: listing.fallback } : {}),
    Pages: listing.pages,
    ...(listing.ok && listing.totalCount !== undefined ? { TotalCount: listing.totalCount } : {}),
    Complete: listing.ok && issues.length === 0,
    ...(issues.length > 0 ? { ListingIssues: issues } : {}),
  };
}

/** A run whose listing failed: nothing selected, nothing done, the failure named. */
export function listingFailedResult(head: RunHead, report: ListingReport, failure: ListingFailure, durationMs: number): CleanupResult {
  return {
    ...head,
    ...report,
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
    Message: `${report.Listing} failed on page ${failure.PageNumber}: ${failure.Message}`,
    ListingFailure: failure,
  };
}

/** What the listing and the selection found. */
interface Counts {
  listed: number;
  eligible: number;
  selected: number;
}

/**
 * The answer lists at most this many items in each of `Results`, `Remaining` and a dry run's
 * `Candidates`, and counts the rest: 100,000 of them made answers of 12 to 23 MB. Every item
 * still has its own log line (a dry run's, bounded apart).
 */
export const MAX_LISTED_ITEMS = 1_000;

/** At most MAX_LISTED_ITEMS of `items`, those `first` picks ahead of the rest when they do not all fit. */
export function listed<T>(items: readonly T[], first: (item: T) => boolean = () => false): { list: T[]; notListed: number } {
  if (items.length <= MAX_LISTED_ITEMS) return { list: [...items], notListed: 0 };
  const ordered = [...items.filter(first), ...items.filter((item) => !first(item))];
  return { list: ordered.slice(0, MAX_LISTED_ITEMS), notListed: items.length - MAX_LISTED_ITEMS };
}

/** A run that listed: it succeeded when the listing added up, nothing failed and every stale review was started. */
export function completedResult(head: RunHead, report: ListingReport, counts: Counts, outcome: Outcome, durationMs: number): CleanupResult {
  // Cut short by time, at the intake or in the listing, or by the run's own cap: what was not reached waits for the next run.
  const listingCut = report.ListingIssues?.some((issue) => issue.Code === 'ListingCut') ?? false;
  const ownCap = head.MaxWithdrawals === undefined && counts.eligible > counts.selected;
  const truncated = outcome.summary.Remaining.length > 0 || listingCut || ownCap;
  const remaining = listed(outcome.summary.Remaining);
  const results = outcome.detail.Results && listed(outcome.detail.Results, (result) => !result.Success);
  return {
    ...head,
    ...report,
    Success: report.Complete && outcome.summary.Failed === 0 && !outcome.summary.Unconfirmed && !truncated,
    Listed: counts.listed,
    Eligible: counts.eligible,
    Selected: counts.selected,
    Skipped: counts.listed - counts.selected + (outcome.summary.LeftReview?.length ?? 0),
    ...outcome.summary,
    Truncated: truncated,
    Remaining: remaining.list,
    ...(remaining.notListed > 0 ? { RemainingNotListed: remaining.notListed } : {}),
    durationMs,
    ...outcome.detail,
    ...(results ? { Results: results.list, ...(results.notListed > 0 ? { ResultsNotListed: results.notListed } : {}) } : {}),
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
  // An incomplete listing is a warning like a truncated run: what was done is right, only not all of it.
  const level = result.Code !== undefined || result.Failed > 0 ? 'error' : result.Truncated || !result.Complete ? 'warn' : 'info';
  log[level](result.Success ? 'cleanup finished' : 'cleanup finished with problems', {
    ...summary,
    Remaining: Remaining.length + (result.RemainingNotListed ?? 0),
    ...(Callback ? { callbackDelivered: Callback.Delivered, callbackCode: Callback.Code } : {}),
  });
}
