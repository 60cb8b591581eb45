import type { Clock } from '../core/clock';
import type { ApiBody, OutboundBotClient } from '../outboundbot/client';
import { isRecord } from '../core/records';
import { runWithRetry, type AttemptOutcome, type RetryPolicy } from '../core/retry-policy';
import { attemptCall, type CallFailure } from '../outboundbot/call';
import { runFailure } from './run-failure';

/** A script as far as the cleanup cares; fields the answer lacks stay undefined and never match. */
export interface ListedScript {
  ScriptId: string;
  ScriptName?: string;
  Status?: string;
  /** Epoch ms. */
  UpdateTime?: number;
}

interface ScriptPage {
  /** Undefined when the answer does not say; paging then runs until an empty page. */
  TotalCount: number | undefined;
  List: ListedScript[];
}

/** Why the listing stopped short: the last failure of the page that could not be read. */
export interface ListingFailure {
  Code: string;
  Message: string;
  /** The upstream status; undefined when no answer arrived. */
  HttpStatusCode: number | undefined;
  RequestId: string | undefined;
  PageNumber: number;
  Attempts: number;
}

export type PageOutcome = { ok: true; page: ScriptPage } | { ok: false; failure: ListingFailure };

type Listing = { ok: true; scripts: ListedScript[]; pages: number } | { ok: false; failure: ListingFailure; pages: number };

/** The API's largest page: fewest round trips. */
const LIST_PAGE_SIZE = 100;
/** 100 000 scripts: far past any real instance, so only a misbehaving server reaches it. */
export const MAX_LIST_PAGES = 1_000;

/**
 * Pages from 1 until TotalCount scripts are in hand or a page comes back empty. A page
 * that adds no new ScriptId also ends it: a server that ignored PageNumber would
 * otherwise be asked for the same page forever.
 */
export async function collectPages(fetchPage: (pageNumber: number) => Promise<PageOutcome>): Promise<Listing> {
  const byId = new Map<string, ListedScript>();
  let pages = 0;
  for (let pageNumber = 1; pageNumber <= MAX_LIST_PAGES; pageNumber++) {
    const outcome = await fetchPage(pageNumber);
    pages += 1;
    if (!outcome.ok) return { ok: false, failure: outcome.failure, pages };
    const sizeBefore = byId.size;
    for (const script of outcome.page.List) if (!byId.has(script.ScriptId)) byId.set(script.ScriptId, script);
    const total = outcome.page.TotalCount;
    if (byId.size === sizeBefore || (total !== undefined && byId.size >= total)) break;
  }
  return { ok: true, scripts: [...byId.values()], pages };
}

/** The API documents numbers; a gateway in between may have turned them into strings. */
function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  return undefined;
}

/** Entries without a ScriptId can be neither told apart nor withdrawn, so they are left out. */
function toListedScript(entry: unknown): ListedScript[] {
  if (!isRecord(entry) || typeof entry.ScriptId !== 'string' || entry.ScriptId === '') return [];
  return [
    {
      ScriptId: entry.ScriptId,
      ScriptName: typeof entry.ScriptName === 'string' ? entry.ScriptName : undefined,
      Status: typeof entry.Status === 'string' ? entry.Status : undefined,
      UpdateTime: toInteger(entry.UpdateTime),
    },
  ];
}

/** `Scripts{TotalCount, List[]}`; undefined when the answer is not shaped like a page. */
export function readScriptPage(body: ApiBody): ScriptPage | undefined {
  const scripts = body.Scripts;
  if (!isRecord(scripts) || !Array.isArray(scripts.List)) return undefined;
  return { TotalCount: toInteger(scripts.TotalCount), List: scripts.List.flatMap(toListedScript) };
}

interface ListDeps {
  client: OutboundBotClient;
  clock: Clock;
  policy: RetryPolicy;
  readTimeoutMs: number;
  /** Epoch ms after which no attempt may start or still be running. */
  deadlineMs: number;
}

/** A malformed page is retried like a body that is not JSON: a proxy in the way, most likely. */
async function attemptPage(instanceId: string, pageNumber: number, deps: ListDeps, remainingMs: number): Promise<AttemptOutcome<ScriptPage, CallFailure>> {
  const query = { InstanceId: instanceId, PageNumber: String(pageNumber), PageSize: String(LIST_PAGE_SIZE) };
  const outcome = await attemptCall(deps.client, 'ListScripts', query, deps.readTimeoutMs, remainingMs);
  if (!outcome.ok) return outcome;
  const page = readScriptPage(outcome.value);
  if (page) return { ok: true, value: page };
  const requestId = typeof outcome.value.RequestId === 'string' ? outcome.value.RequestId : undefined;
  return { ok: false, failure: { code: 'InvalidResponse', statusCode: undefined, message: 'ListScripts answered without Scripts.List', requestId } };
}

/** Every script of the instance, each page under the withdrawal's retry policy and deadline. */
export function listScripts(instanceId: string, deps: ListDeps): Promise<Listing> {
  return collectPages(async (pageNumber) => {
    const run = await runWithRetry((remainingMs) => attemptPage(instanceId, pageNumber, deps, remainingMs), deps.policy, deps.clock, deps.deadlineMs);
    if (run.outcome?.ok) return { ok: true, page: run.outcome.value };
    const { Code, Message, last } = runFailure(run, `while listing page ${pageNumber}`);
    return {
      ok: false,
      failure: { Code, Message, HttpStatusCode: last?.statusCode, RequestId: last?.requestId, PageNumber: pageNumber, Attempts: run.attempts },
    };
  });
}
