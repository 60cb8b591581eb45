// The cleanup's parts without a server: payload parsing, paging, selection, the time budget, fc2
// error mapping and the fan-out target, the one DeadlineExceeded rule, the summary's arithmetic.
import { issuesOf } from '../support/issues';
import { describe, expect, it } from 'vitest';
import { mapUntil, planBudget } from '../../lib/cleanup/budget';
import { FcClientSettingsError } from '../../lib/cleanup/errors';
import { chunk, createAsyncInvoker, dispatchChunk, resolveFanoutTarget, toDispatchFailure } from '../../lib/cleanup/fanout';
import { collectPages, listScripts, MAX_LIST_PAGES, readScriptPage, type ListedScript, type PageOutcome } from '../../lib/cleanup/list';
import { parseCleanupRequest } from '../../lib/cleanup/request';
import { runFailure } from '../../lib/cleanup/run-failure';
import { selectStaleReviews } from '../../lib/cleanup/select';
import { completedResult, listingFailedResult, runHead } from '../../lib/cleanup/summary';
import { InvalidConfigurationError, InvalidParameterError } from '../../lib/core/errors';
import { createOutboundBotClient } from '../../lib/outboundbot/client';
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

  it('says what is wrong with a payload that is empty, not JSON, or not an object', () => {
    expect(issuesOfRequest(timer(''))).toEqual([{ Path: 'payload', Message: expect.stringContaining('is empty') }]);
    expect(issuesOfRequest(timer('{"InstanceId":'))).toEqual([{ Path: 'payload', Message: 'is not valid JSON' }]);
    expect(issuesOfRequest(timer('[1]'))).toEqual([{ Path: 'payload', Message: 'must be a JSON object' }]);
    expect(issuesOfRequest(Buffer.from('not json'))).toEqual([{ Path: 'event', Message: 'is not valid JSON' }]);
    expect(issuesOfRequest([1, 2])).toEqual([{ Path: 'event', Message: expect.stringContaining('timer event') }]);
  });
});

const page = (ids: string[], TotalCount: number | undefined): PageOutcome => ({
  ok: true,
  page: { TotalCount, List: ids.map((ScriptId) => ({ ScriptId })) },
});

describe('collectPages', () => {
  it('stops once TotalCount scripts are in hand', async () => {
    const asked: number[] = [];
    const listing = await collectPages(async (n) => {
      asked.push(n);
      return page(n === 1 ? ['a', 'b'] : ['c'], 3);
    });
    expect(asked).toEqual([1, 2]);
    expect(listing).toEqual({ ok: true, pages: 2, scripts: [{ ScriptId: 'a' }, { ScriptId: 'b' }, { ScriptId: 'c' }] });
  });

  it('stops at an empty page when TotalCount is missing', async () => {
    const listing = await collectPages(async (n) => page(n <= 2 ? [`s${n}`] : [], undefined));
    expect(listing).toMatchObject({ ok: true, pages: 3 });
  });

  it('stops when a page brings nothing new: a server that ignores PageNumber cannot loop it', async () => {
    const asked: number[] = [];
    const listing = await collectPages(async (n) => {
      asked.push(n);
      return page(['same-1', 'same-2'], 1_000);
    });
    expect(asked).toEqual([1, 2]);
    expect(listing).toMatchObject({ ok: true, scripts: [{ ScriptId: 'same-1' }, { ScriptId: 'same-2' }] });
  });

  it('gives up after MAX_LIST_PAGES even if every page is new', async () => {
    const listing = await collectPages(async (n) => page([`s${n}`], undefined));
    expect(listing).toMatchObject({ ok: true, pages: MAX_LIST_PAGES });
  });

  it('reports the failure of the page it could not read', async () => {
    const failure = { Code: 'InternalError', Message: 'boom', HttpStatusCode: 500, RequestId: 'r', PageNumber: 2, Attempts: 4 };
    const listing = await collectPages(async (n) => (n === 1 ? page(['a'], 5) : { ok: false, failure }));
    expect(listing).toEqual({ ok: false, failure, pages: 2 });
  });

  it('reads a page defensively: string numbers, entries without ScriptId left out', () => {
    expect(
      readScriptPage({ Scripts: { TotalCount: '3', List: [{ ScriptId: 'a', Status: 'DRAFTED', UpdateTime: '1700000000000' }, { Status: 'DRAFTED' }, 'junk'] } }),
    ).toEqual({ TotalCount: 3, List: [{ ScriptId: 'a', ScriptName: undefined, Status: 'DRAFTED', UpdateTime: 1_700_000_000_000 }] });
    expect(readScriptPage({ Scripts: {} })).toBeUndefined();
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
    expect(eligible.map((x) => x.ScriptId)).toEqual(['oldest', 'a-old', 'b-old']);
    expect(selected).toEqual(eligible);
  });

  it('caps the selection, keeping the oldest', () => {
    const scripts = [s('new', 'EXAMINE_IN_PROGRESS', 100), s('old', 'EXAMINE_IN_PROGRESS', 300), s('mid', 'EXAMINE_IN_PROGRESS', 200)];
    const { eligible, selected } = selectStaleReviews(scripts, { nowMs, olderThanMinutes: 1, maxWithdrawals: 2 });
    expect(eligible).toHaveLength(3);
    expect(selected.map((x) => x.ScriptId)).toEqual(['old', 'mid']);
  });
});

describe('the run budget', () => {
  it('reserves a read timeout for work in flight and the callback timeout at the end, each at most 10%', () => {
    expect(planBudget(0, 599_000, { readTimeoutMs: 10_000, callbackTimeoutMs: 5_000 })).toEqual({ intakeEndMs: 584_000, workEndMs: 594_000, deadlineMs: 599_000 });
    expect(planBudget(0, 1_800, { readTimeoutMs: 10_000 })).toEqual({ intakeEndMs: 1_620, workEndMs: 1_800, deadlineMs: 1_800 });
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

describe('the fan-out target', () => {
  const credentials = { accessKeyId: 'STS.key', accessKeySecret: 'secret', securityToken: 'token' };
  const context = { requestId: 'r', region: 'cn-hangzhou', accountId: '1111' };

  it('takes account and region from the context first, then FC_ACCOUNT_ID / FC_REGION; endpoint and function from the config', () => {
    const cfg = parseCleanupConfig({ FC_ACCOUNT_ID: '2222', FC_REGION: 'cn-beijing', FC_ENDPOINT: 'http://127.0.0.1:9000/', WITHDRAW_FUNCTION_NAME: 'w' });
    expect(resolveFanoutTarget(cfg, context, credentials)).toEqual({ accountId: '1111', region: 'cn-hangzhou', endpoint: 'http://127.0.0.1:9000', functionName: 'w', credentials });
    expect(resolveFanoutTarget(cfg, { requestId: 'r' }, credentials)).toMatchObject({ accountId: '2222', region: 'cn-beijing' });
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
    const listing = await listScripts('instance-1', { client, clock, policy, readTimeoutMs: 100, deadlineMs: clock.nowMs() });
    expect(listing).toEqual({
      ok: false,
      pages: 1,
      failure: { Code: 'DeadlineExceeded', Message: 'The invocation deadline arrived while listing page 1', HttpStatusCode: undefined, RequestId: undefined, PageNumber: 1, Attempts: 0 },
    });
    const invoker = createAsyncInvoker({ accountId: '1111', region: 'cn-shanghai', endpoint: 'http://127.0.0.1:9', credentials });
    const items = [{ InstanceId: 'instance-1', ScriptId: 'script-1' }];
    const chunkResult = await dispatchChunk(items, 0, { invoker, functionName: 'w', clock, policy, deadlineMs: clock.nowMs() });
    expect(chunkResult).toEqual({
      Index: 0,
      Size: 1,
      Attempts: 0,
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
  const counts = { listed: 10, eligible: 4, selected: 3 };
  const none = { Withdrawn: 0, Failed: 0, Dispatched: 0, Remaining: [] };

  it('names the run the same way whatever happened; MaxWithdrawals only when asked', () => {
    expect(runHead('req', request, 'inline')).toEqual({ RequestId: 'req', InstanceId: INSTANCE, Mode: 'inline', DryRun: false, OlderThanMinutes: 60 });
    expect(runHead('req', { ...request, MaxWithdrawals: 5 }, 'fanout')).toMatchObject({ Mode: 'fanout', MaxWithdrawals: 5 });
  });

  it('a run succeeds only when nothing failed and every selected item was started', () => {
    const head = runHead('req', request, 'inline');
    expect(completedResult(head, counts, { summary: { ...none, Withdrawn: 3 }, detail: { Results: [] } }, 7)).toEqual({
      ...head,
      Success: true,
      Listed: 10,
      Eligible: 4,
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
    expect(completedResult(head, counts, { summary: { ...none, Withdrawn: 2, Failed: 1 }, detail: {} }, 7)).toMatchObject({ Success: false, Truncated: false });
    const remaining = [{ InstanceId: INSTANCE, ScriptId: 's3' }];
    expect(completedResult(head, counts, { summary: { ...none, Withdrawn: 2, Remaining: remaining }, detail: {} }, 7)).toMatchObject({ Success: false, Truncated: true, Remaining: remaining });
  });

  it('a failed listing is a failed run with nothing counted, the page named', () => {
    const failure = { Code: 'Throttling', Message: 'slow down', HttpStatusCode: 429, RequestId: 'u1', PageNumber: 2, Attempts: 4 };
    expect(listingFailedResult(runHead('req', request, 'inline'), failure, 9)).toMatchObject({
      Success: false,
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
