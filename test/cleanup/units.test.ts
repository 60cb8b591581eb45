// The cleanup's pure parts: payload parsing, paging, selection, the time budget and fc2 error mapping.
import { issuesOf } from '../support/issues';
import { describe, expect, it } from 'vitest';
import { mapUntil, planBudget } from '../../lib/cleanup/budget';
import { collectPages, MAX_LIST_PAGES, readScriptPage, type ListedScript, type PageOutcome } from '../../lib/cleanup/list';
import { parseCleanupRequest } from '../../lib/cleanup/request';
import { selectStaleReviews } from '../../lib/cleanup/select';
import { InvalidParameterError } from '../../lib/core/errors';
import { chunk, toDispatchFailure } from '../../lib/cleanup/fanout';
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
