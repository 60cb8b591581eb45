// How the cleanup lists (issues #14 and #13): QueryScriptsByStatus for the review states by
// default, ListScripts when that action is refused, and pages that do not add up reported as an
// incomplete run. Against the OutboundBot emulator over real HTTP, its paging faults included.
import { describe, expect, it } from 'vitest';
import type { EmulatorScript } from '../../emulator/outboundbot';
import { ALL_STATES, REVIEW, scriptAged, timerEvent, useCleanupStack } from './stack';

const stack = useCleanupStack();
const { cleanupFor, instanceWith, run, requestsFor } = stack;

const REVIEW_STATES = [...REVIEW];
const ids = (scripts: readonly { ScriptId: string }[]) => scripts.map((s) => s.ScriptId);

/** `count` stale reviews, both review states alternating. */
const staleReviews = (count: number) => Array.from({ length: count }, (_, i) => scriptAged(REVIEW_STATES[i % 2]!, 600 + i));

/** Requests per listing action for the instance, in order: [action, PageNumber, status]. */
const listingCalls = (instanceId: string) =>
  stack.emulator.requests.filter((r) => r.query.InstanceId === instanceId && r.action !== 'WithdrawScriptReview').map((r) => [r.action, r.query.PageNumber, r.status]);

describe('a listing that would outlast the run (issue #24.1)', () => {
  it('stops at its share of the time and withdraws, oldest first, from what it read: Truncated, not nothing', async () => {
    // 6,000 stale reviews at 40 ms a page: 60 pages, more than the whole 2 s function.
    const stale = staleReviews(6_000);
    const instanceId = instanceWith(stale);
    stack.emulator.setLatency(40);
    const startMs = Date.now();
    const result = await run(cleanupFor().service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60, MaxWithdrawals: 5 }), 2);
    expect(Date.now() - startMs).toBeLessThan(2_000);
    const read = listingCalls(instanceId).length;
    expect(read).toBeGreaterThan(3);
    expect(read).toBeLessThan(30);
    expect(result).toMatchObject({ Success: false, Complete: false, Truncated: true, Pages: read, Listed: read * 100, Selected: 5, Withdrawn: 5, Failed: 0 });
    expect(result.ListingIssues).toEqual([{ Code: 'ListingCut', PageNumber: read + 1, Message: expect.stringContaining(`stopped after ${read} pages`) }]);
    // The oldest of what was read: staleReviews ages them by index.
    const listed = stale.slice(0, read * 100);
    const oldest = [...listed].sort((a, b) => a.UpdateTime - b.UpdateTime).slice(0, 5);
    expect(result.Results!.map((r) => r.ScriptId).sort()).toEqual(oldest.map((s) => s.ScriptId).sort());
  }, 15_000);
});

describe('listing with QueryScriptsByStatus, and ListScripts when it is refused', () => {
  it('5 000 scripts with 2 000 stale reviews: 20 QueryScriptsByStatus pages; refused, 1 refusal and 50 ListScripts pages; the same selection', async () => {
    // Two reviews in every five scripts, the rest spread over the other states.
    const others = ALL_STATES.filter((s) => !REVIEW.has(s));
    const scripts = Array.from({ length: 5_000 }, (_, i) => (i % 5 < 2 ? scriptAged(REVIEW_STATES[i % 5]!, 600) : scriptAged(others[i % others.length]!, 600)));
    const stale = scripts.filter((s) => REVIEW.has(s.Status));
    expect(stale).toHaveLength(2_000);
    const instanceId = instanceWith(scripts);
    const event = { InstanceId: instanceId, OlderThanMinutes: 60, DryRun: true };

    const byStatus = await run(cleanupFor().service, event);
    expect(requestsFor('QueryScriptsByStatus', instanceId)).toHaveLength(20);
    expect(requestsFor('ListScripts', instanceId)).toHaveLength(0);
    expect(byStatus).toMatchObject({ Success: true, Listing: 'QueryScriptsByStatus', Pages: 20, TotalCount: 2_000, Complete: true, Listed: 2_000, Selected: 2_000, Skipped: 0 });

    stack.emulator.reset();
    stack.emulator.setDisabledActions(['QueryScriptsByStatus']);
    const all = await run(cleanupFor().service, event);
    expect(requestsFor('QueryScriptsByStatus', instanceId).map((r) => [r.status, r.code])).toEqual([[404, 'InvalidAction.NotFound']]);
    expect(requestsFor('ListScripts', instanceId)).toHaveLength(50);
    expect(all).toMatchObject({ Success: true, Listing: 'ListScripts', Pages: 50, TotalCount: 5_000, Complete: true, Listed: 5_000, Selected: 2_000, Skipped: 3_000 });

    expect(ids(all.Candidates!)).toEqual(ids(byStatus.Candidates!));
    // A dry run lists the oldest 1,000 and counts the rest (issue #24.3).
    expect([byStatus.Candidates!.length, byStatus.CandidatesNotListed, all.CandidatesNotListed]).toEqual([1_000, 1_000, 1_000]);
    const staleIds = new Set(ids(stale));
    expect(ids(byStatus.Candidates!).filter((id) => !staleIds.has(id))).toEqual([]);
  });

  it('an unknown action: the summary and a warning name the fallback, and exactly the stale reviews are withdrawn', async () => {
    const stale = staleReviews(3);
    const others = [...ALL_STATES.filter((s) => !REVIEW.has(s)).map((s) => scriptAged(s, 600)), scriptAged('EXAMINE_IN_PROGRESS', 5)];
    const scripts = [...others.slice(0, 4), ...stale, ...others.slice(4)];
    const instanceId = instanceWith(scripts);
    stack.emulator.setDisabledActions(['QueryScriptsByStatus']);
    const { service, logs, summaryLine } = cleanupFor();

    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));

    expect(result).toMatchObject({
      Success: true,
      Listing: 'ListScripts',
      ListingFallback: { Code: 'InvalidAction.NotFound', HttpStatusCode: 404, Message: expect.stringContaining('QueryScriptsByStatus'), RequestId: expect.any(String) },
      Complete: true,
      Listed: scripts.length,
      Selected: 3,
      Withdrawn: 3,
      Failed: 0,
    });
    expect(ids(result.Results!)).toEqual(ids([...stale].reverse())); // oldest first
    for (const s of scripts) expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName}`).toBe(stale.includes(s) ? 1 : 0);
    // The fallback lists every script: no StatusList is sent.
    expect(requestsFor('ListScripts', instanceId).map((r) => Object.keys(r.query).sort())).toEqual([['InstanceId', 'PageNumber', 'PageSize']]);
    const warnings = logs().filter((l) => l.level === 'warn');
    expect(warnings).toEqual([expect.objectContaining({ message: 'listing fell back to ListScripts', InstanceId: instanceId, ListingFallback: expect.objectContaining({ Code: 'InvalidAction.NotFound' }) })]);
    expect(summaryLine()).toMatchObject({ level: 'info', Listing: 'ListScripts', ListingFallback: { Code: 'InvalidAction.NotFound' }, Complete: true });
  });

  it("RAM's 403 Forbidden.RAM falls back too; a 400 InvalidParameter does not (it may be our own encoding) and fails the listing", async () => {
    const instanceId = instanceWith(staleReviews(2));
    stack.emulator.injectFault({ kind: 'status', status: 403, code: 'Forbidden.RAM', message: 'User not authorized to operate on the specified resource.' }, { action: 'QueryScriptsByStatus' });
    const denied = await run(cleanupFor().service, { InstanceId: instanceId, OlderThanMinutes: 60 });
    expect(denied).toMatchObject({ Success: true, Listing: 'ListScripts', ListingFallback: { Code: 'Forbidden.RAM', HttpStatusCode: 403 }, Withdrawn: 2 });

    const other = instanceWith(staleReviews(2));
    stack.emulator.injectFault({ kind: 'status', status: 400, code: 'InvalidParameter' }, { action: 'QueryScriptsByStatus' });
    const refused = await run(cleanupFor().service, { InstanceId: other, OlderThanMinutes: 60 });
    expect(refused).toMatchObject({ Success: false, Code: 'InvalidParameter', Listing: 'QueryScriptsByStatus', Complete: false, Withdrawn: 0 });
    expect(refused).not.toHaveProperty('ListingFallback');
    expect(listingCalls(other)).toEqual([['QueryScriptsByStatus', '1', 400]]);
  });
});

describe('a listing whose pages do not add up is not a success', () => {
  for (const action of ['QueryScriptsByStatus', 'ListScripts'] as const) {
    it(`${action}, a server that ignores PageNumber: Listed 100 of 250, Complete and Success false, a warning; the 100 are still withdrawn`, async () => {
      // 250 stale reviews first, then scripts in other states that only ListScripts lists.
      const stale = staleReviews(250);
      const scripts: EmulatorScript[] = [...stale, ...Array.from({ length: 50 }, () => scriptAged('DRAFTED', 600))];
      const instanceId = instanceWith(scripts);
      if (action === 'ListScripts') stack.emulator.setDisabledActions(['QueryScriptsByStatus']);
      stack.emulator.setPagingFault({ kind: 'ignore-page-number' });
      const { service, logs, summaryLine } = cleanupFor();

      const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));

      const total = action === 'ListScripts' ? 300 : 250;
      expect(requestsFor(action, instanceId).map((r) => r.query.PageNumber)).toEqual(['1', '2']);
      expect(result).toMatchObject({ Success: false, Listing: action, Pages: 2, TotalCount: total, Complete: false, Listed: 100, Selected: 100, Withdrawn: 100, Failed: 0, Truncated: false });
      expect(result.ListingIssues!.map((i) => [i.Code, i.PageNumber])).toEqual([
        ['RepeatedPage', 2],
        ['TotalCountNotReached', 2],
      ]);
      expect(result.Code).toBeUndefined();
      for (const [i, s] of scripts.entries()) expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of script #${i}`).toBe(i < 100 ? 1 : 0);
      const incomplete = logs().filter((l) => l.message === 'listing incomplete');
      expect(incomplete).toEqual([expect.objectContaining({ level: 'warn', Listing: action, Listed: 100, TotalCount: total, Pages: 2 })]);
      expect(summaryLine()).toMatchObject({ level: 'warn', message: 'cleanup finished with problems', Success: false, Complete: false, Listed: 100 });
    });
  }

  it('TotalCount shrinking between pages (a review approved ahead of the cursor): a script skipped at a page boundary makes the listing incomplete, not a success (issue #24.2)', async () => {
    const stale = staleReviews(250);
    const instanceId = instanceWith(stale);
    // One script leaves the head of the list between pages: each later page starts one further on.
    stack.emulator.setPagingFault({ kind: 'shrinking-total', perPage: 1 });
    const result = await run(cleanupFor().service, { InstanceId: instanceId, OlderThanMinutes: 60 });
    // What was listed matches the last TotalCount: only the moved count shows a review went unlisted.
    expect(result).toMatchObject({ Success: false, Complete: false, TotalCount: 248, Listed: 248 });
    expect(result.ListingIssues).toEqual([{ Code: 'TotalCountMoved', PageNumber: 2, Message: expect.stringContaining('TotalCount went from 250 (page 1) to 249 (page 2)') }]);
  });

  it('TotalCount growing between pages: scripts seen on two pages count once and are withdrawn once; 250 of a final 256 is incomplete', async () => {
    const stale = staleReviews(250);
    const instanceId = instanceWith([...stale, scriptAged('PUBLISHED', 600)]);
    // Two scripts appear ahead of the cursor between pages: each page repeats two of the last.
    stack.emulator.setPagingFault({ kind: 'growing-total', perPage: 2 });
    const { service, logs, summaryLine } = cleanupFor();

    const result = await run(service, { InstanceId: instanceId, OlderThanMinutes: 60 });

    expect(listingCalls(instanceId)).toEqual(['1', '2', '3', '4'].map((n) => ['QueryScriptsByStatus', n, 200]));
    expect(result).toMatchObject({ Success: false, Complete: false, Pages: 4, TotalCount: 256, Listed: 250, Eligible: 250, Selected: 250, Withdrawn: 250, Failed: 0 });
    expect(result.ListingIssues).toEqual([
      { Code: 'TotalCountMoved', PageNumber: 2, Message: expect.stringContaining('TotalCount went from 250 (page 1) to 252 (page 2)') },
      { Code: 'DuplicateScripts', PageNumber: 2, Message: expect.stringMatching(/^4 listed entries repeated a ScriptId/) },
      { Code: 'TotalCountNotReached', PageNumber: 4, Message: "listed 250 scripts of the 256 that the last page's TotalCount announced" },
    ]);
    expect(new Set(ids(result.Results!)).size).toBe(250);
    for (const s of stale) expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName}`).toBe(1);
    expect(stack.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.InstanceId === instanceId)).toHaveLength(250);
    expect(logs().filter((l) => l.message === 'listing incomplete')).toEqual([expect.objectContaining({ level: 'warn', Listed: 250, TotalCount: 256 })]);
    expect(summaryLine()).toMatchObject({ level: 'warn', Success: false, Complete: false });
  });
});
