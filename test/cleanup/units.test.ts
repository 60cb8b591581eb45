// The cleanup's parts without a server: payload parsing, paging and its checks, the listing's
// fallback rule, selection, the time budget, fc2 error mapping and the fan-out target, the one
// DeadlineExceeded rule, the chunks' task ids, the summary's arithmetic.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issuesOf } from '../support/issues';
import { describe, expect, it } from 'vitest';
import { mapUntil, planBudget } from '../../lib/cleanup/budget';
import { timelineOf } from '../../lib/fc/timeline';
import { FcClientSettingsError } from '../../lib/cleanup/errors';
import { chunk } from '../../lib/cleanup/chunk-plan';
import { createAsyncInvoker, dispatchChunk, resolveFanoutTarget, toDispatchFailure } from '../../lib/cleanup/fanout';
import { listScripts, refusesQueryByStatus } from '../../lib/cleanup/list';
import { collectPages, MAX_LIST_PAGES, readScriptPage, type ListedScript, type PageOutcome } from '../../lib/cleanup/pages';
import { MAX_WITHDRAWALS_PER_RUN, parseCleanupRequest } from '../../lib/cleanup/request';
import { runFailure } from '../../lib/cleanup/run-failure';
import { createStaleSelector, selectStaleReviews } from '../../lib/cleanup/select';
import { chunkTaskId, FC_TASK_ID_PATTERN } from '../../lib/cleanup/task-id';
import { completedResult, listingFailedResult, listingReport, MAX_LISTED_ITEMS, runHead } from '../../lib/cleanup/summary';
import { InvalidConfigurationError, InvalidParameterError } from '../../lib/core/errors';
import { createOutboundBotClient, type OutboundBotClient } from '../../lib/outboundbot/client';
import { OutboundBotCallError } from '../../lib/outboundbot/errors';
import type { WithdrawResult } from '../../lib/withdraw/withdraw-item';
import { parseCleanupConfig } from '../../lib/runtime/config';
import { FakeClock } from '../support/fake-clock';

const INSTANCE = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
const timer = (payload: unknown) => ({ triggerTime: '2026-11-24T19:00:00Z', triggerName: 'nightly', payload });

const issuesOfRequest = (event: unknown) => issuesOf(() => parseCleanupRequest(event), InvalidParameterError);

describe('parseCleanupRequest', () => {
  it('reads the timer envelope, whose payload is JSON text, as FC sends it (a Buffer)', () => {
    const event = Buffer.from(JSON.stringify(timer(JSON.stringify({ InstanceId: INSTANCE, OlderThanMinutes: 1440, MaxWithdrawals: 200 }))));
    expect(parseCleanupRequest(event)).toEqual({
      trigger: 'timer',
      request: { InstanceId: INSTANCE, OlderThanMinutes: 1440, DryRun: false, MaxWithdrawals: 200 },
    });
  });

  it('reads the same object given directly (s invoke)', () => {
    expect(parseCleanupRequest({ InstanceId: INSTANCE, OlderThanMinutes: 5, DryRun: true })).toEqual({
      trigger: 'invoke',
      request: { InstanceId: INSTANCE, OlderThanMinutes: 5, DryRun: true },
    });
  });

  it('names each bad field of a timer payload under payload.', () => {
    expect(issuesOfRequest(timer(JSON.stringify({ InstanceId: 'bad id!', OlderThanMinutes: 0, MaxWithdrawals: 10_001, DryRun: 'yes' })))).toEqual([
      { Path: 'payload.InstanceId', Message: expect.stringContaining('1-64 characters') },
      { Path: 'payload.OlderThanMinutes', Message: 'must be at least 1' },
      { Path: 'payload.DryRun', Message: 'must be true or false' },
      { Path: 'payload.MaxWithdrawals', Message: 'must be at most 10000' },
    ]);
  });

  it('requires InstanceId and OlderThanMinutes, and integers', () => {
    expect(issuesOfRequest({})).toEqual([
      { Path: 'InstanceId', Message: 'is required' },
      { Path: 'OlderThanMinutes', Message: 'is required' },
    ]);
    expect(issuesOfRequest({ InstanceId: INSTANCE, OlderThanMinutes: 1.5 })).toEqual([{ Path: 'OlderThanMinutes', Message: 'must be an integer' }]);
    expect(issuesOfRequest({ InstanceId: INSTANCE, OlderThanMinutes: '60' })).toEqual([{ Path: 'OlderThanMinutes', Message: 'must be a number' }]);
  });

  it('refuses an unknown field by name, so a misspelt cap is never silently ignored', () => {
    expect(issuesOfRequest(timer(JSON.stringify({ InstanceId: INSTANCE, OlderThanMinutes: 60, MaxWithdrawal: 5 })))).toEqual([
      { Path: 'payload.MaxWithdrawal', Message: expect.stringContaining('not a known field') },
    ]);
  });

  it('names the declared fields first, then each unknown key, and reads absent optional fields as their defaults', () => {
    expect(issuesOfRequest({ Zeta: 1, InstanceId: 7, OlderThanMinutes: 1e20, DryRun: null, MaxWithdrawal: 5, MaxWithdrawals: 'x' })).toEqual([
      { Path: 'InstanceId', Message: 'must be a string' },
      { Path: 'OlderThanMinutes', Message: 'must be an integer' },
      { Path: 'OlderThanMinutes', Message: 'must be at most 525600' },
      { Path: 'DryRun', Message: 'must be true or false' },
      { Path: 'MaxWithdrawals', Message: 'must be a number' },
      { Path: 'Zeta', Message: 'is not a known field (InstanceId, OlderThanMinutes, DryRun, MaxWithdrawals)' },
      { Path: 'MaxWithdrawal', Message: 'is not a known field (InstanceId, OlderThanMinutes, DryRun, MaxWithdrawals)' },
    ]);
    expect(issuesOfRequest(timer(`{"InstanceId":"${INSTANCE}","__proto__":{},"OlderThanMinutes":5}`))).toEqual([
      { Path: 'payload.__proto__', Message: expect.stringContaining('not a known field') },
    ]);
    expect(parseCleanupRequest({ InstanceId: INSTANCE, OlderThanMinutes: 5, DryRun: undefined, MaxWithdrawals: undefined }).request).toEqual({
      InstanceId: INSTANCE,
      OlderThanMinutes: 5,
      DryRun: false,
    });
  });

  it('says what is wrong with a payload that is empty, not JSON, or not an object', () => {
    expect(issuesOfRequest(timer(''))).toEqual([{ Path: 'payload', Message: expect.stringContaining('is empty') }]);
    expect(issuesOfRequest(timer('{"InstanceId":'))).toEqual([{ Path: 'payload', Message: 'is not valid JSON' }]);
    expect(issuesOfRequest(timer('[1]'))).toEqual([{ Path: 'payload', Message: 'must be a JSON object' }]);
    expect(issuesOfRequest(Buffer.from('not json'))).toEqual([{ Path: 'event', Message: 'is not valid JSON' }]);
    expect(issuesOfRequest([1, 2])).toEqual([{ Path: 'event', Message: expect.stringContaining('timer event') }]);
  });
});

const page = (ids: string[], TotalCount: number | undefined, PageSize?: number): PageOutcome => ({
  ok: true,
  page: { TotalCount, PageSize, List: ids.map((ScriptId) => ({ ScriptId })) },
});

/** `count` ScriptIds from `from`: `s<from>`, `s<from+1>`, …. */
const idsFrom = (from: number, count: number) => Array.from({ length: count }, (_, i) => `s${from + i}`);

/** A sink that keeps every script the listing hands on, in order. */
function keeper() {
  const scripts: ListedScript[] = [];
  return { scripts, take: (script: ListedScript) => void scripts.push(script) };
}

/** collectPages into a {@link keeper}: the listing, with the scripts it handed on. */
async function collect(fetchPage: (pageNumber: number) => Promise<PageOutcome>, outOfTime?: () => boolean) {
  const sink = keeper();
  return { ...(await collectPages(fetchPage, sink, outOfTime)), scripts: sink.scripts };
}

describe('collectPages', () => {
  it('stops once TotalCount scripts are in hand; pages that add up leave no issue', async () => {
    const asked: number[] = [];
    const listing = await collect(async (n) => {
      asked.push(n);
      return page(n === 1 ? ['a', 'b'] : ['c'], 3, 2);
    });
    expect(asked).toEqual([1, 2]);
    expect(listing).toEqual({ ok: true, listed: 3, pages: 2, totalCount: 3, issues: [], scripts: [{ ScriptId: 'a' }, { ScriptId: 'b' }, { ScriptId: 'c' }] });
  });

  it('stops at an empty page when TotalCount is missing, and a short last page is no issue', async () => {
    const listing = await collect(async (n) => page(n <= 2 ? idsFrom(n * 100, n === 1 ? 100 : 40) : [], undefined));
    expect(listing).toMatchObject({ ok: true, pages: 3, totalCount: undefined, issues: [] });
  });

  it('a server that ignores PageNumber: stops at the repeated page, counts each script once, and says the listing is short', async () => {
    const asked: number[] = [];
    const listing = await collect(async (n) => {
      asked.push(n);
      return page(idsFrom(0, 100), 300);
    });
    expect(asked).toEqual([1, 2]);
    if (!listing.ok) throw new Error('expected a listing');
    expect(listing.scripts).toHaveLength(100);
    expect(listing.issues).toEqual([
      { Code: 'RepeatedPage', PageNumber: 2, Message: expect.stringContaining('ignore PageNumber') },
      { Code: 'TotalCountNotReached', PageNumber: 2, Message: 'listed 100 scripts of the 300 that the last page\'s TotalCount announced' },
    ]);
  });

  it('fewer listed than the final TotalCount is an issue, even when each page was full and new', async () => {
    // 2 940 scripts; TotalCount grows by 50 over the run, so the listing ends 50 short of it.
    const listing = await collect(async (n) => page(idsFrom((n - 1) * 100, Math.max(0, Math.min(100, 2_940 - (n - 1) * 100))), n < 30 ? 2_940 : 2_990));
    expect(listing).toMatchObject({ ok: true, pages: 31, totalCount: 2_990 });
    expect(listing.ok && listing.scripts).toHaveLength(2_940);
    expect(listing.ok && listing.issues).toEqual([
      { Code: 'TotalCountMoved', PageNumber: 30, Message: expect.stringContaining('from 2940 (page 1) to 2990 (page 30)') },
      { Code: 'TotalCountNotReached', PageNumber: 31, Message: expect.stringContaining('listed 2940 scripts of the 2990') },
    ]);
  });

  it('scripts seen on two pages count once, and the overlap is an issue, once however many pages overlap', async () => {
    // Each page starts two entries early, as if two scripts had been created ahead of the cursor.
    const listing = await collect(async (n) => page(idsFrom(Math.max(0, (n - 1) * 98), Math.min(100, 250 - (n - 1) * 98)), 250));
    if (!listing.ok) throw new Error('expected a listing');
    expect(listing.scripts.map((s) => s.ScriptId)).toEqual(idsFrom(0, 250));
    expect(listing.issues).toEqual([{ Code: 'DuplicateScripts', PageNumber: 2, Message: expect.stringMatching(/^4 listed entries repeated a ScriptId/) }]);
  });

  it('a short page before the end is an issue; the page size the server reports is the one expected', async () => {
    const sizes = [100, 60, 100, 40];
    const listing = await collect(async (n) => page(idsFrom(n * 1_000, sizes[n - 1] ?? 0), 300));
    expect(listing).toMatchObject({ ok: true, pages: 4, issues: [{ Code: 'ShortPage', PageNumber: 2, Message: 'page 2 held 60 of 100 scripts, yet page 3 held more' }] });
    // A server whose pages hold 50 says so in PageSize: its full pages are not short.
    const fifties = await collect(async (n) => page(idsFrom(n * 1_000, n <= 3 ? 50 : 0), 150, 50));
    expect(fifties).toMatchObject({ ok: true, pages: 3, issues: [] });
  });

  it('gives up after MAX_LIST_PAGES even if every page is new, and says it did not reach the end', async () => {
    const listing = await collect(async (n) => page([`s${n}`], undefined, 1));
    expect(listing).toMatchObject({ ok: true, pages: MAX_LIST_PAGES, issues: [{ Code: 'PageLimit', PageNumber: MAX_LIST_PAGES }] });
  });

  it('reports the failure of the page it could not read', async () => {
    const failure = { Code: 'InternalError', Message: 'boom', HttpStatusCode: 500, RequestId: 'r', PageNumber: 2, Attempts: 4 };
    const listing = await collect(async (n) => (n === 1 ? page(['a'], 5) : { ok: false, failure }));
    expect(listing).toEqual({ ok: false, failure, pages: 2, scripts: [{ ScriptId: 'a' }] });
  });

  it('reads a page defensively: string numbers, entries without ScriptId left out', () => {
    expect(
      readScriptPage({ Scripts: { TotalCount: '3', PageSize: '100', List: [{ ScriptId: 'a', Status: 'DRAFTED', UpdateTime: '1700000000000' }, { Status: 'DRAFTED' }, 'junk'] } }),
    ).toEqual({ TotalCount: 3, PageSize: 100, List: [{ ScriptId: 'a', ScriptName: undefined, Status: 'DRAFTED', UpdateTime: 1_700_000_000_000 }] });
    expect(readScriptPage({ Scripts: { List: [], PageSize: 0 } })).toEqual({ TotalCount: undefined, PageSize: undefined, List: [] });
    expect(readScriptPage({ Scripts: {} })).toBeUndefined();
  });
});

describe('the fallback rule: which refusals of QueryScriptsByStatus mean "use ListScripts"', () => {
  const refusal = (HttpStatusCode: number | undefined, Code: string, PageNumber = 1) => refusesQueryByStatus({ Code, HttpStatusCode, PageNumber });

  it('the action unknown, not permitted, or StatusList not understood, on page 1', () => {
    expect(refusal(404, 'InvalidAction.NotFound')).toBe(true);
    expect(refusal(400, 'InvalidAction')).toBe(true);
    expect(refusal(403, 'InvalidAction.NotFound')).toBe(true);
    expect(refusal(403, 'Forbidden.RAM')).toBe(true);
    expect(refusal(403, 'Forbidden')).toBe(true);
    expect(refusal(403, 'NoPermission')).toBe(true);
    expect(refusal(403, 'NotAuthorized')).toBe(true);
    expect(refusal(400, 'InvalidParameter.StatusList')).toBe(true);
    expect(refusal(400, 'InvalidParameter.StatusList.Malformed')).toBe(true);
  });

  it('nothing else: the instance, our own parameters, transient faults, a deadline, a later page, look-alike codes', () => {
    expect(refusal(404, 'NotExist.Instance')).toBe(false);
    expect(refusal(400, 'InvalidParameter')).toBe(false);
    expect(refusal(400, 'InvalidParameter.PageSize')).toBe(false);
    expect(refusal(400, 'Forbidden.RAM')).toBe(false);
    expect(refusal(404, 'Forbidden.RAM')).toBe(false);
    expect(refusal(403, 'UpstreamRefused')).toBe(false);
    expect(refusal(403, 'ForbiddenFruit')).toBe(false);
    expect(refusal(403, 'InvalidActionable')).toBe(false);
    expect(refusal(500, 'InvalidAction.NotFound')).toBe(false);
    expect(refusal(429, 'Throttling.User')).toBe(false);
    expect(refusal(undefined, 'DeadlineExceeded')).toBe(false);
    expect(refusal(404, 'InvalidAction.NotFound', 2)).toBe(false);
  });
});

/** A client that answers QueryScriptsByStatus with `byStatus` (or throws it) and ListScripts with `all`, one page each. */
function fakeClient(byStatus: Array<Record<string, unknown>> | OutboundBotCallError, all: Array<Record<string, unknown>>) {
  const calls: Array<{ action: string; query: Record<string, string> }> = [];
  const client: OutboundBotClient = {
    async call(action, query) {
      calls.push({ action, query });
      const list = action === 'QueryScriptsByStatus' ? byStatus : all;
      if (list instanceof OutboundBotCallError) throw list;
      return { Success: true, Scripts: { TotalCount: list.length, PageSize: 100, List: list } };
    },
  };
  return { client, calls };
}

describe('listScripts', () => {
  const clock = new FakeClock();
  const deps = (client: OutboundBotClient) => ({ client, clock, policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, readTimeoutMs: 1_000, workEndMs: clock.nowMs() + 60_000 });
  const listAll = async (client: OutboundBotClient) => {
    const sink = keeper();
    return { ...(await listScripts(INSTANCE, deps(client), sink)), scripts: sink.scripts };
  };
  const reviewed = { ScriptId: 'r', Status: 'EXAMINE_IN_PROGRESS', UpdateTime: 1 };
  const drafted = { ScriptId: 'd', Status: 'DRAFTED', UpdateTime: 1 };

  it('asks for the two review states, StatusList flattened as the SDK does', async () => {
    const { client, calls } = fakeClient([reviewed], []);
    expect(await listAll(client)).toMatchObject({ ok: true, action: 'QueryScriptsByStatus', pages: 1, issues: [] });
    expect(calls).toEqual([
      {
        action: 'QueryScriptsByStatus',
        query: { InstanceId: INSTANCE, PageNumber: '1', PageSize: '100', 'StatusList.1': 'EXAMINE_IN_PROGRESS', 'StatusList.2': 'PUBLISHED_AND_EXAMINE_IN_PROGRESS' },
      },
    ]);
  });

  it('falls back to ListScripts for the run, naming the refusal; any other refusal is the listing failure', async () => {
    const forbidden = new OutboundBotCallError('Forbidden.RAM', 'User not authorized', 403, 'req-1');
    const fellBack = fakeClient(forbidden, [reviewed, drafted]);
    expect(await listAll(fellBack.client)).toMatchObject({
      ok: true,
      action: 'ListScripts',
      fallback: { Code: 'Forbidden.RAM', Message: 'User not authorized', HttpStatusCode: 403, RequestId: 'req-1' },
      scripts: [{ ScriptId: 'r' }, { ScriptId: 'd' }],
    });
    expect(fellBack.calls.map((c) => [c.action, c.query['StatusList.1']])).toEqual([
      ['QueryScriptsByStatus', 'EXAMINE_IN_PROGRESS'],
      ['ListScripts', undefined],
    ]);
    const noInstance = fakeClient(new OutboundBotCallError('NotExist.Instance', 'no such instance', 404, 'req-2'), [reviewed]);
    expect(await listAll(noInstance.client)).toMatchObject({ ok: false, action: 'QueryScriptsByStatus', failure: { Code: 'NotExist.Instance' } });
    expect(noInstance.calls).toHaveLength(1);
  });

  it('the selection still checks each state and age: a server that ignored StatusList withdraws nothing else', async () => {
    const { client } = fakeClient([reviewed, drafted, { ScriptId: 'young', Status: 'EXAMINE_IN_PROGRESS', UpdateTime: clock.nowMs() }], []);
    const listing = await listAll(client);
    if (!listing.ok) throw new Error('expected a listing');
    expect(selectStaleReviews(listing.scripts, { nowMs: clock.nowMs(), olderThanMinutes: 60 }).selected.map((s) => s.ScriptId)).toEqual(['r']);
  });
});

describe('selectStaleReviews', () => {
  const nowMs = Date.UTC(2026, 10, 24, 3);
  const minute = 60_000;
  const s = (ScriptId: string, Status: string | undefined, ageMinutes: number | undefined): ListedScript => ({
    ScriptId,
    Status,
    UpdateTime: ageMinutes === undefined ? undefined : nowMs - ageMinutes * minute,
  });

  it('takes review states strictly older than the cutoff, oldest first, ties by ScriptId', () => {
    const scripts = [
      s('young', 'EXAMINE_IN_PROGRESS', 59),
      s('exactly-at-cutoff', 'EXAMINE_IN_PROGRESS', 60),
      s('b-old', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', 90),
      s('a-old', 'EXAMINE_IN_PROGRESS', 90),
      s('oldest', 'EXAMINE_IN_PROGRESS', 500),
      s('drafted', 'DRAFTED', 500),
      s('no-status', undefined, 500),
      s('no-time', 'EXAMINE_IN_PROGRESS', undefined),
      s('lowercase', 'examine_in_progress', 500),
    ];
    const { eligible, selected } = selectStaleReviews(scripts, { nowMs, olderThanMinutes: 60 });
    expect(selected.map((x) => x.ScriptId)).toEqual(['oldest', 'a-old', 'b-old']);
    expect(eligible).toBe(3);
  });

  it('caps the selection, keeping the oldest', () => {
    const scripts = [s('new', 'EXAMINE_IN_PROGRESS', 100), s('old', 'EXAMINE_IN_PROGRESS', 300), s('mid', 'EXAMINE_IN_PROGRESS', 200)];
    const { eligible, selected } = selectStaleReviews(scripts, { nowMs, olderThanMinutes: 1, maxWithdrawals: 2 });
    expect(eligible).toBe(3);
    expect(selected.map((x) => x.ScriptId)).toEqual(['old', 'mid']);
  });

  it('trims as it takes scripts in (keeping at most twice the cap), and still selects the oldest of all', () => {
    const selector = createStaleSelector({ nowMs, olderThanMinutes: 1, maxWithdrawals: 3 });
    // 1,000 stale reviews, newest first (the worst order for a bounded keep), and 1,000 young ones.
    for (let n = 0; n < 1_000; n++) selector.take(s(`stale-${n}`, 'EXAMINE_IN_PROGRESS', 10 + n));
    for (let n = 0; n < 1_000; n++) selector.take(s(`young-${n}`, 'EXAMINE_IN_PROGRESS', 0));
    const { eligible, selected } = selector.selection();
    expect(eligible).toBe(1_000);
    expect(selected.map((x) => x.ScriptId)).toEqual(['stale-999', 'stale-998', 'stale-997']);
  });
});

describe('the run budget', () => {
  it('reserves a read timeout for work in flight and the callback timeout at the end, each at most 10%', () => {
    const fn = (timeout: number) => ({ requestId: 'r', function: { timeout } });
    expect(planBudget(timelineOf(0, fn(600), { callbackTimeoutMs: 5_000 }), 10_000)).toEqual({ listEndMs: 292_000, intakeEndMs: 584_000, workEndMs: 594_000, answerByMs: 599_000 });
    expect(planBudget(timelineOf(0, fn(2)), 10_000)).toEqual({ listEndMs: 810, intakeEndMs: 1_620, workEndMs: 1_800, answerByMs: 1_800 });
  });

  it('mapUntil starts nothing after the intake end and keeps input order', async () => {
    const clock = new FakeClock(0);
    const started: number[] = [];
    const run = await mapUntil([1, 2, 3, 4, 5], 2, 250, clock, async (n) => {
      started.push(n);
      await clock.sleep(100);
      return n * 10;
    });
    expect(started).toEqual([1, 2, 3]);
    expect(run).toEqual({ done: [10, 20, 30], notStarted: [4, 5] });
  });
});

describe('fan-out helpers', () => {
  it('chunks in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 50)).toEqual([]);
  });

  it('reads the status from what fc2 throws, since it keeps no statusCode', () => {
    const fc2Error = Object.assign(new Error('POST /functions/f/invocations failed with 403. requestid: 1f2e, message: undefined.'), { name: 'FCundefinedError' });
    expect(toDispatchFailure(fc2Error)).toEqual({ code: 'Http403', statusCode: 403, message: 'Function Compute answered 403', requestId: '1f2e' });
    const withCode = Object.assign(new Error('POST /functions/f/invocations failed with 429. requestid: r9, message: Too many.'), { code: 'ResourceThrottled' });
    expect(toDispatchFailure(withCode)).toEqual({ code: 'ResourceThrottled', statusCode: 429, message: 'Function Compute answered 429: Too many', requestId: 'r9' });
    expect(toDispatchFailure(Object.assign(new Error('x'), { name: 'RequestTimeoutError' }))).toMatchObject({ code: 'RequestTimeout', statusCode: undefined });
    expect(toDispatchFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({ code: 'ECONNREFUSED', statusCode: undefined });
    expect(toDispatchFailure(new SyntaxError('Unexpected token'))).toMatchObject({ code: 'InvalidResponse', statusCode: undefined });
  });
});

describe('the chunk task id (x-fc-async-task-id)', () => {
  const items = [
    { InstanceId: INSTANCE, ScriptId: 'a1' },
    { InstanceId: INSTANCE, ScriptId: 'b2' },
  ];
  // FC 3.0's request ids look like this: they start with a digit, which FC refuses as a task id's first character.
  const fcRequestId = '1-6745a1b2-3c4d5e6f-7a8b9c0d1e2f';

  it('is the same for the same run, chunk index and items, whatever the call', () => {
    expect(chunkTaskId(fcRequestId, 2, items)).toBe(chunkTaskId(fcRequestId, 2, items.map((i) => ({ ...i }))));
    expect(chunkTaskId(fcRequestId, 2, items)).toMatch(new RegExp(`^cleanup-${fcRequestId}-2-[0-9a-f]{16}$`));
  });

  it('differs when the run, the index, the items or their order differ', () => {
    const ids = [
      chunkTaskId(fcRequestId, 0, items),
      chunkTaskId('1-6745a1b2-3c4d5e6f-000000000000', 0, items),
      chunkTaskId(fcRequestId, 1, items),
      chunkTaskId(fcRequestId, 0, items.slice(0, 1)),
      chunkTaskId(fcRequestId, 0, [...items].reverse()),
      chunkTaskId(fcRequestId, 0, [{ InstanceId: 'other-instance', ScriptId: 'a1' }, items[1]!]),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("keeps to FC's rule (a letter or _ first; letters, digits, _ and -; at most 128) whatever the request id", () => {
    const requestIds = [fcRequestId, 'cleanup-4f1c', 'x'.repeat(64), 'x'.repeat(65), 'r'.repeat(500), 'id with spaces/and:colons', 'ид-запроса', ''];
    const many = Array.from({ length: 100 }, (_, i) => ({ InstanceId: INSTANCE, ScriptId: `s${i}` }));
    for (const requestId of requestIds) {
      const id = chunkTaskId(requestId, 9_999, many);
      expect(id, requestId).toMatch(FC_TASK_ID_PATTERN);
      expect(id.length, requestId).toBeLessThanOrEqual(128);
    }
    // A long or odd request id is hashed, still one per run.
    expect(chunkTaskId('r'.repeat(500), 0, items)).not.toBe(chunkTaskId('r'.repeat(499), 0, items));
  });

  it('the pattern itself refuses what FC refuses', () => {
    for (const bad of ['1-starts-with-a-digit', '-dash-first', 'has.dot', 'has space', 'x'.repeat(129), '']) expect(bad).not.toMatch(FC_TASK_ID_PATTERN);
    for (const good of ['_x', 'a', 'A-b_9', 'x'.repeat(128)]) expect(good).toMatch(FC_TASK_ID_PATTERN);
  });
});

describe('the fan-out target', () => {
  const credentials = { accessKeyId: 'STS.key', accessKeySecret: 'secret', securityToken: 'token' };
  const context = { requestId: 'r', region: 'cn-hangzhou', accountId: '1111' };

  it('takes account and region from the context first, then FC_ACCOUNT_ID / FC_REGION; endpoint and function from the config', () => {
    const cfg = parseCleanupConfig({ FC_ACCOUNT_ID: '2222', FC_REGION: 'cn-beijing', FC_ENDPOINT: 'http://127.0.0.1:9000/', WITHDRAW_FUNCTION_NAME: 'w' });
    expect(resolveFanoutTarget(cfg, context, credentials)).toEqual({ accountId: '1111', region: 'cn-hangzhou', endpoint: 'http://127.0.0.1:9000', functionName: 'w', credentials });
    expect(resolveFanoutTarget(cfg, { requestId: 'r' }, credentials)).toMatchObject({ accountId: '2222', region: 'cn-beijing' });
    // And the operator's guide says so (issue #25.5: it called them overrides).
    const row = readFileSync(path.resolve(__dirname, '../../docs/OPERATIONS.md'), 'utf8').split('\n').find((line) => line.startsWith('| `FC_ACCOUNT_ID`'));
    expect(row).toContain('the context wins');
    expect(row).not.toContain('overrides');
  });

  it('names each setting neither the context nor the config gives', () => {
    const cfg = parseCleanupConfig({});
    expect(issuesOf(() => resolveFanoutTarget(cfg, { requestId: 'r' }, credentials), InvalidConfigurationError)).toEqual([
      { Path: 'FC_ACCOUNT_ID', Message: 'is required for CLEANUP_MODE=fanout when the context does not carry it' },
      { Path: 'FC_REGION', Message: 'is required for CLEANUP_MODE=fanout when the context does not carry it' },
    ]);
    expect(issuesOf(() => resolveFanoutTarget(cfg, { requestId: 'r', accountId: '1111' }, credentials), InvalidConfigurationError).map((i) => i.Path)).toEqual(['FC_REGION']);
  });

  it('settings fc2 refuses are an InvalidConfiguration refusal that keeps what fc2 threw as its cause', () => {
    const target = { accountId: '1111', region: 'cn-shanghai', endpoint: undefined, credentials: { accessKeyId: 'STS.key', accessKeySecret: 'secret' } };
    let thrown: unknown;
    try {
      createAsyncInvoker(target);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FcClientSettingsError);
    expect(thrown).toBeInstanceOf(InvalidConfigurationError);
    const error = thrown as FcClientSettingsError;
    expect({ code: error.code, statusCode: error.statusCode, issues: error.issues }).toEqual({
      code: 'InvalidConfiguration',
      statusCode: 500,
      issues: [{ Path: 'FC client', Message: expect.stringContaining('securityToken') }],
    });
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe(error.issues[0]!.Message);
    expect(Object.keys(error)).not.toContain('cause');
  });
});

describe('the one DeadlineExceeded rule of the listing and the dispatch', () => {
  const unavailable = { code: 'ServiceUnavailable', statusCode: 503, message: 'busy', requestId: 'r1' };
  const notFound = { code: 'NotExist.Instance', statusCode: 404, message: 'no such instance', requestId: 'r2' };

  it('is DeadlineExceeded when the deadline ended the retries, naming what was under way and the last failure', () => {
    expect(runFailure({ outcome: undefined, attempts: 0, deadlineReached: true }, 'while listing page 3')).toEqual({
      Code: 'DeadlineExceeded',
      Message: 'The invocation deadline arrived while listing page 3',
      last: undefined,
    });
    expect(runFailure({ outcome: { ok: false, failure: unavailable }, attempts: 2, deadlineReached: true }, 'before the chunk was queued')).toEqual({
      Code: 'DeadlineExceeded',
      Message: 'The invocation deadline arrived before the chunk was queued (last: ServiceUnavailable)',
      last: unavailable,
    });
  });

  it("is the last failure's own when a refusal, or the attempt budget, ended them", () => {
    expect(runFailure({ outcome: { ok: false, failure: notFound }, attempts: 1, deadlineReached: true }, 'x')).toEqual({ Code: 'NotExist.Instance', Message: 'no such instance', last: notFound });
    expect(runFailure({ outcome: { ok: false, failure: unavailable }, attempts: 4, deadlineReached: false }, 'x')).toEqual({ Code: 'ServiceUnavailable', Message: 'busy', last: unavailable });
  });

  it('the listing and the dispatch use it: past the deadline, nothing is sent and each says so in its words', async () => {
    const clock = new FakeClock(1_000_000);
    const policy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 };
    const credentials = { accessKeyId: 'key', accessKeySecret: 'secret' };
    // Real clients pointed at a closed port: a call would fail with ECONNREFUSED, not DeadlineExceeded.
    const client = createOutboundBotClient(credentials, { endpoint: '127.0.0.1:9', protocol: 'http', connectTimeoutMs: 100 });
    const listing = await listScripts('instance-1', { client, clock, policy, readTimeoutMs: 100, workEndMs: clock.nowMs() }, keeper());
    expect(listing).toEqual({
      ok: false,
      action: 'QueryScriptsByStatus',
      pages: 1,
      failure: { Code: 'DeadlineExceeded', Message: 'The invocation deadline arrived while listing page 1', HttpStatusCode: undefined, RequestId: undefined, PageNumber: 1, Attempts: 0 },
    });
    const invoker = createAsyncInvoker({ accountId: '1111', region: 'cn-shanghai', endpoint: 'http://127.0.0.1:9', credentials });
    const items = [{ InstanceId: 'instance-1', ScriptId: 'script-1' }];
    const chunkResult = await dispatchChunk({ index: 0, taskId: chunkTaskId('run-1', 0, items), items }, { invoker, functionName: 'w', clock, policy, workEndMs: clock.nowMs() });
    expect(chunkResult).toEqual({
      Index: 0,
      Size: 1,
      Attempts: 0,
      TaskId: chunkTaskId('run-1', 0, items),
      Success: false,
      Code: 'DeadlineExceeded',
      Message: 'The invocation deadline arrived before the chunk was queued',
      HttpStatusCode: undefined,
      RequestId: undefined,
      NotDispatched: items,
    });
  });
});

describe('the summary', () => {
  const request = { InstanceId: INSTANCE, OlderThanMinutes: 60, DryRun: false };
  const counts = { listed: 10, eligible: 3, selected: 3 };
  const none = { Withdrawn: 0, Failed: 0, Dispatched: 0, Remaining: [] };
  const complete = { Listing: 'QueryScriptsByStatus' as const, Pages: 1, TotalCount: 10, Complete: true };

  it('names the run the same way whatever happened; MaxWithdrawals only when asked', () => {
    expect(runHead('req', request, 'inline')).toEqual({ RequestId: 'req', InstanceId: INSTANCE, Mode: 'inline', DryRun: false, OlderThanMinutes: 60 });
    expect(runHead('req', { ...request, MaxWithdrawals: 5 }, 'fanout')).toMatchObject({ Mode: 'fanout', MaxWithdrawals: 5 });
  });

  it('a run succeeds only when nothing failed and every selected item was started', () => {
    const head = runHead('req', request, 'inline');
    expect(completedResult(head, complete, counts, { summary: { ...none, Withdrawn: 3 }, detail: { Results: [] } }, 7)).toEqual({
      ...head,
      ...complete,
      Success: true,
      Listed: 10,
      Eligible: 3,
      Selected: 3,
      Skipped: 7,
      Withdrawn: 3,
      Failed: 0,
      Dispatched: 0,
      Remaining: [],
      Truncated: false,
      durationMs: 7,
      Results: [],
    });
    expect(completedResult(head, complete, counts, { summary: { ...none, Withdrawn: 2, Failed: 1 }, detail: {} }, 7)).toMatchObject({ Success: false, Truncated: false });
    const remaining = [{ InstanceId: INSTANCE, ScriptId: 's3' }];
    expect(completedResult(head, complete, counts, { summary: { ...none, Withdrawn: 2, Remaining: remaining }, detail: {} }, 7)).toMatchObject({ Success: false, Truncated: true, Remaining: remaining });
  });

  it('a listing that did not add up is no success, though everything selected was done', () => {
    const issue = { Code: 'RepeatedPage' as const, PageNumber: 2, Message: 'page 2 brought only ScriptIds already listed' };
    const report = listingReport({ ok: true, action: 'QueryScriptsByStatus', listed: 0, pages: 2, totalCount: 300, issues: [issue] });
    expect(report).toEqual({ Listing: 'QueryScriptsByStatus', Pages: 2, TotalCount: 300, Complete: false, ListingIssues: [issue] });
    expect(completedResult(runHead('req', request, 'inline'), report, counts, { summary: { ...none, Withdrawn: 3 }, detail: {} }, 7)).toMatchObject({
      Success: false,
      Complete: false,
      Withdrawn: 3,
      Truncated: false,
    });
  });

  it("with no MaxWithdrawals asked, stale reviews left beyond the run's own cap make it truncated, not a success", () => {
    const many = { listed: 20_000, eligible: 12_000, selected: MAX_WITHDRAWALS_PER_RUN };
    const done = { summary: { ...none, Withdrawn: MAX_WITHDRAWALS_PER_RUN }, detail: { Results: [] } };
    expect(completedResult(runHead('req', request, 'inline'), complete, many, done, 7)).toMatchObject({ Success: false, Truncated: true, Eligible: 12_000, Selected: 10_000 });
    // Asked for: the cap is the request's, and the run that met it is a success.
    const asked = runHead('req', { ...request, MaxWithdrawals: 10_000 }, 'inline');
    expect(completedResult(asked, complete, many, done, 7)).toMatchObject({ Success: true, Truncated: false });
  });

  it('lists at most MAX_LISTED_ITEMS results (failures first) and remaining items, and counts the rest', () => {
    const item = (n: number) => ({ InstanceId: INSTANCE, ScriptId: `script-${n}` });
    const result = (n: number, Success: boolean) => ({ ...item(n), Success, Code: Success ? 'Withdrawn' : 'Throttling' }) as unknown as WithdrawResult;
    const results = Array.from({ length: 1_500 }, (_, n) => result(n, n % 500 !== 499));
    const remaining = Array.from({ length: 1_200 }, (_, n) => item(10_000 + n));
    const bounded = completedResult(runHead('req', request, 'inline'), complete, { listed: 3_000, eligible: 2_700, selected: 2_700 }, { summary: { ...none, Withdrawn: 1_497, Failed: 3, Remaining: remaining }, detail: { Results: results } }, 7);
    expect(bounded.Results).toHaveLength(MAX_LISTED_ITEMS);
    expect(bounded.Results!.slice(0, 3).map((r) => r.ScriptId)).toEqual(['script-499', 'script-999', 'script-1499']);
    expect(bounded.Results![3]!.ScriptId).toBe('script-0');
    expect(bounded.ResultsNotListed).toBe(500);
    expect(bounded.Remaining).toEqual(remaining.slice(0, MAX_LISTED_ITEMS));
    expect(bounded).toMatchObject({ RemainingNotListed: 200, Truncated: true, Success: false });
    // At the bound, in order and nothing counted.
    const atBound = completedResult(runHead('req', request, 'inline'), complete, counts, { summary: { ...none, Remaining: remaining.slice(0, MAX_LISTED_ITEMS) }, detail: { Results: results.slice(0, MAX_LISTED_ITEMS) } }, 7);
    expect(atBound.Results).toEqual(results.slice(0, MAX_LISTED_ITEMS));
    expect(atBound).not.toHaveProperty('ResultsNotListed');
    expect(atBound).not.toHaveProperty('RemainingNotListed');
  });

  it('fan-out items whose chunk may have been queued make the run no success, and are not counted failed', () => {
    const outcome = { summary: { ...none, Dispatched: 3, Unconfirmed: 2 }, detail: { Chunks: [] } };
    expect(completedResult(runHead('req', request, 'fanout'), complete, counts, outcome, 7)).toMatchObject({ Success: false, Failed: 0, Unconfirmed: 2, Truncated: false });
  });

  it('the listing report names a fallback, and leaves out what it does not know', () => {
    const fallback = { Code: 'InvalidAction.NotFound', Message: 'not found', HttpStatusCode: 404, RequestId: 'u0' };
    expect(listingReport({ ok: true, action: 'ListScripts', fallback, listed: 0, pages: 1, totalCount: undefined, issues: [] })).toEqual({
      Listing: 'ListScripts',
      ListingFallback: fallback,
      Pages: 1,
      Complete: true,
    });
  });

  it('a failed listing is a failed run with nothing counted, the action and page named, not complete', () => {
    const failure = { Code: 'Throttling', Message: 'slow down', HttpStatusCode: 429, RequestId: 'u1', PageNumber: 2, Attempts: 4 };
    const report = listingReport({ ok: false, action: 'ListScripts', failure, pages: 2 });
    expect(listingFailedResult(runHead('req', request, 'inline'), report, failure, 9)).toMatchObject({
      Success: false,
      Listing: 'ListScripts',
      Pages: 2,
      Complete: false,
      Listed: 0,
      Selected: 0,
      Withdrawn: 0,
      Truncated: false,
      Remaining: [],
      durationMs: 9,
      Code: 'Throttling',
      Message: 'ListScripts failed on page 2: slow down',
      ListingFailure: failure,
    });
  });
});
