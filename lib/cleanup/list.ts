/**
 * The cleanup's listing: `QueryScriptsByStatus` for the two review states (one call per 100
 * reviews rather than per 100 scripts), or `ListScripts` for the whole run when the API
 * refuses that action. Either way the selection checks each script's state itself.
 *
 * @module
 */
import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { runWithRetry, type AttemptOutcome, type RetryPolicy } from '../core/retry-policy';
import { attemptCall, type CallFailure } from '../outboundbot/call';
import type { OutboundBotClient } from '../outboundbot/client';
import { REVIEW_STATES } from '../outboundbot/script-states';
import { collectPages, LIST_PAGE_SIZE, readScriptPage, type CollectedPages, type ListingFailure, type PageOutcome, type ScriptPage, type ScriptSink } from './pages';
import { runFailure } from './run-failure';

/** How the scripts were listed: only the review states, or every script of the instance. */
export type ListingAction = 'QueryScriptsByStatus' | 'ListScripts';

/** Why the run listed with ListScripts: QueryScriptsByStatus's refusal of page 1. */
export interface ListingFallback {
  Code: string;
  Message: string;
  HttpStatusCode: number | undefined;
  RequestId: string | undefined;
}

/** The pages collected, the action that listed them and, after a fallback, why. */
export type Listing = CollectedPages & { action: ListingAction; fallback?: ListingFallback };

/** StatusList as the official SDK flattens an array (OpenApiUtil.query): `StatusList.1`, `StatusList.2`. */
const REVIEW_STATUS_LIST: Readonly<Record<string, string>> = Object.fromEntries([...REVIEW_STATES].map((status, i) => [`StatusList.${i + 1}`, status]));

const FILTER: { readonly [A in ListingAction]: Readonly<Record<string, string>> } = { QueryScriptsByStatus: REVIEW_STATUS_LIST, ListScripts: {} };

/**
 * The refusals that mean "not this action" rather than "not this instance" or "not now", by
 * status: codes equal to one of these or starting with it and a dot. The gateway's unknown
 * action (404 `InvalidAction.NotFound`); RAM's denials of the action (403 `Forbidden.RAM`,
 * `NoPermission`, `NotAuthorized`), as when the role is granted ListScripts only; a 400 for
 * the action or for `StatusList` itself. Deliberately not a bare `InvalidParameter`, a 404
 * `NotExist.Instance` or any 5xx/429: ListScripts would fail the same way, or the fault is
 * ours (a StatusList encoding bug must show, not hide behind a slower listing).
 */
const ACTION_REFUSALS: ReadonlyMap<number, readonly string[]> = new Map([
  [400, ['InvalidAction', 'InvalidParameter.StatusList']],
  [403, ['InvalidAction', 'Forbidden', 'NoPermission', 'NotAuthorized']],
  [404, ['InvalidAction']],
]);

/** True when QueryScriptsByStatus's failure is a refusal of the action itself, on its first page (see ACTION_REFUSALS). */
export function refusesQueryByStatus(failure: Pick<ListingFailure, 'Code' | 'HttpStatusCode' | 'PageNumber'>): boolean {
  // Later pages cannot be refused as an action page 1 was served by; mixing two listings would not add up either.
  if (failure.PageNumber !== 1 || failure.HttpStatusCode === undefined) return false;
  const codes = ACTION_REFUSALS.get(failure.HttpStatusCode) ?? [];
  return codes.some((code) => failure.Code === code || failure.Code.startsWith(`${code}.`));
}

interface ListDeps {
  client: OutboundBotClient;
  clock: Clock;
  policy: RetryPolicy;
  readTimeoutMs: number;
  /** Epoch ms after which no page is asked for and no attempt may still be running: the listing's share of the run. */
  workEndMs: number;
}

/** A malformed page is retried like a body that is not JSON: a proxy in the way, most likely. */
async function attemptPage(action: ListingAction, instanceId: string, pageNumber: number, deps: ListDeps, remainingMs: number): Promise<AttemptOutcome<ScriptPage, CallFailure>> {
  const query = { InstanceId: instanceId, PageNumber: String(pageNumber), PageSize: String(LIST_PAGE_SIZE), ...FILTER[action] };
  const outcome = await attemptCall(deps.client, action, query, deps.readTimeoutMs, remainingMs);
  if (!outcome.ok) return outcome;
  const page = readScriptPage(outcome.value);
  if (page) return { ok: true, value: page };
  const requestId = typeof outcome.value.RequestId === 'string' ? outcome.value.RequestId : undefined;
  return { ok: false, failure: { code: 'InvalidResponse', statusCode: undefined, message: `${action} answered without Scripts.List`, requestId } };
}

/** Reads one page of `action` under the withdrawal's retry policy and deadline. */
function pageReader(action: ListingAction, instanceId: string, deps: ListDeps): (pageNumber: number) => Promise<PageOutcome> {
  return async (pageNumber) => {
    const run = await runWithRetry((remainingMs) => attemptPage(action, instanceId, pageNumber, deps, remainingMs), deps.policy, deps.clock, deps.workEndMs);
    if (run.outcome?.ok) return { ok: true, page: run.outcome.value };
    const { Code, Message, last } = runFailure(run, `while listing page ${pageNumber}`);
    return {
      ok: false,
      failure: { Code, Message, HttpStatusCode: last?.statusCode, RequestId: last?.requestId, PageNumber: pageNumber, Attempts: run.attempts },
    };
  };
}

/**
 * The instance's scripts under review, with QueryScriptsByStatus; when that action is refused
 * (see {@link refusesQueryByStatus}), every script with ListScripts, for the rest of the run.
 * The choice is made afresh each run, so a permission granted later is used the next night.
 */
export async function listScripts(instanceId: string, deps: ListDeps, sink: ScriptSink): Promise<Listing> {
  const outOfTime = () => deps.clock.nowMs() >= deps.workEndMs;
  const byStatus = await collectPages(pageReader('QueryScriptsByStatus', instanceId, deps), sink, outOfTime);
  if (byStatus.ok || !refusesQueryByStatus(byStatus.failure)) return { ...byStatus, action: 'QueryScriptsByStatus' };
  const { Code, Message, HttpStatusCode, RequestId } = byStatus.failure;
  const all = await collectPages(pageReader('ListScripts', instanceId, deps), sink, outOfTime);
  return { ...all, action: 'ListScripts', fallback: { Code, Message, HttpStatusCode, RequestId } };
}

/** A warning for a fallback and one for pages that did not add up: the summary says so too, these say it at once. */
export function logListing(log: Logger, listing: Listing): void {
  if (listing.fallback) {
    log.warn('listing fell back to ListScripts', { ListingFallback: listing.fallback, note: 'QueryScriptsByStatus was refused; every script is listed and filtered here' });
  }
  if (listing.ok && listing.issues.length > 0) {
    const { action, pages, totalCount, issues, listed } = listing;
    log.warn('listing incomplete', { Listing: action, Pages: pages, Listed: listed, TotalCount: totalCount, ListingIssues: issues });
  }
}
