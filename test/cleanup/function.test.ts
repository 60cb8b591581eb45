// The cleanup function (inline mode) against the OutboundBot emulator over real HTTP.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextFor } from '../support/stack';
import { ALL_STATES, REVIEW, scriptAged, timerEvent, useCleanupStack } from './stack';

const stack = useCleanupStack();
const { cleanupFor, instanceWith, run, requestsFor } = stack;

describe('a dry run over many reviews is bounded (issue #24.3)', () => {
  it('lists the oldest 1,000 candidates and counts the rest; logs 100 of them and one line for the others', async () => {
    const scripts = Array.from({ length: 2_500 }, (_, i) => ({ ...scriptAged('EXAMINE_IN_PROGRESS', 3 * 24 * 60), UpdateTime: Date.now() - 3 * 24 * 3_600_000 - i * 1_000 }));
    const instanceId = instanceWith(scripts);
    const { service, logs } = cleanupFor();
    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60, DryRun: true }));
    expect(result).toMatchObject({ Success: true, DryRun: true, Selected: 2_500, CandidatesNotListed: 1_500 });
    // Oldest first: the last-created entries above are the oldest.
    expect(result.Candidates!.map((c) => c.ScriptId)).toEqual(scripts.slice(-1_000).reverse().map((s) => s.ScriptId));
    expect(JSON.stringify(result).length).toBeLessThan(256 * 1024);
    expect(logs().filter((l) => l.message === 'would withdraw (dry run)')).toHaveLength(100);
    expect(logs().filter((l) => l.message === 'would withdraw more (dry run)')).toEqual([expect.objectContaining({ notLogged: 2_400 })]);
  });
});

describe('a script a reviewer acts on after the listing (issue #24.6)', () => {
  it('is skipped, with the state it left review for, not failed: the run is a success', async () => {
    const approved = scriptAged('EXAMINE_IN_PROGRESS', 2 * 24 * 60);
    const other = scriptAged('EXAMINE_IN_PROGRESS', 2 * 24 * 60);
    const instanceId = instanceWith([approved, other]);
    const { service } = cleanupFor({ CLEANUP_CONCURRENCY: '1' });
    // The listing is read at once and answered 300 ms later: the reviewer approves in between.
    stack.emulator.setLatency(300);
    const running = run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));
    while (requestsFor('QueryScriptsByStatus', instanceId).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    stack.emulator.addInstance(instanceId, [{ ...approved, Status: 'PUBLISHED', UpdateTime: Date.now() }, other]);
    const result = await running;
    expect(result).toMatchObject({ Success: true, Selected: 2, Withdrawn: 1, Failed: 0, Skipped: 1, LeftReview: [{ ScriptId: approved.ScriptId, Status: 'PUBLISHED' }] });
    expect(requestsFor('DescribeScript', instanceId)).toHaveLength(1);
  });

  it('a refusal while the script is still under review stays a failure', async () => {
    const stuck = scriptAged('EXAMINE_IN_PROGRESS', 2 * 24 * 60);
    const instanceId = instanceWith([stuck]);
    stack.emulator.injectFault({ kind: 'status', status: 403, code: 'Forbidden.RAM' }, { action: 'WithdrawScriptReview', times: 1 });
    const result = await run(cleanupFor().service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));
    expect(result).toMatchObject({ Success: false, Withdrawn: 0, Failed: 1, Skipped: 0 });
    expect(result.LeftReview).toBeUndefined();
  });
});

describe('cleanup (inline) against the emulator', () => {
  it('withdraws exactly the old reviews, whatever other states exist, and leaves everything else alone', async () => {
    // Every state, old (2 days) and young (5 minutes).
    const scripts = ALL_STATES.flatMap((status) => [scriptAged(status, 2 * 24 * 60), scriptAged(status, 5)]);
    const instanceId = instanceWith(scripts);
    const expected = scripts.filter((s) => REVIEW.has(s.Status) && s.ScriptName.endsWith(`${2 * 24 * 60} min`));
    expect(expected).toHaveLength(2);
    const reviews = scripts.filter((s) => REVIEW.has(s.Status));
    const { service, logs, lines, summaryLine } = cleanupFor();

    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));

    expect(result).toMatchObject({
      Success: true,
      InstanceId: instanceId,
      Mode: 'inline',
      DryRun: false,
      Listing: 'QueryScriptsByStatus',
      Pages: 1,
      TotalCount: reviews.length,
      Complete: true,
      Listed: reviews.length,
      Eligible: 2,
      Selected: 2,
      Skipped: reviews.length - 2,
      Withdrawn: 2,
      Failed: 0,
      Dispatched: 0,
      Truncated: false,
      Remaining: [],
    });
    expect(result).not.toHaveProperty('ListingFallback');
    expect(result).not.toHaveProperty('ListingIssues');
    expect(result.Results!.map((r) => r.ScriptId).sort()).toEqual(expected.map((s) => s.ScriptId).sort());
    for (const r of result.Results!) expect(r, `result for ${r.ScriptId}`).toMatchObject({ Success: true, Code: 'OK', Attempts: 1 });
    for (const s of scripts) {
      const chosen = expected.includes(s);
      expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `${s.ScriptName} withdrawn?`).toBe(chosen ? 1 : 0);
      if (!chosen) expect(stack.emulator.script(instanceId, s.ScriptId)!.Status).toBe(s.Status);
    }
    expect(stack.emulator.script(instanceId, expected.find((s) => s.Status === 'EXAMINE_IN_PROGRESS')!.ScriptId)!.Status).toBe('DRAFTED');
    expect(stack.emulator.script(instanceId, expected.find((s) => s.Status !== 'EXAMINE_IN_PROGRESS')!.ScriptId)!.Status).toBe('PUBLISHED');
    expect(requestsFor('WithdrawScriptReview', instanceId)).toHaveLength(2);

    // One line per withdrawal and the summary; nothing secret.
    const withdrawalLines = logs().filter((l) => l.message === 'withdrawal succeeded');
    expect(withdrawalLines).toHaveLength(2);
    expect(withdrawalLines[0]).toMatchObject({ level: 'info', trigger: 'timer', InstanceId: instanceId, Success: true, Code: 'OK', HttpStatusCode: 200, Attempts: 1 });
    expect(withdrawalLines[0]!.upstreamRequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(summaryLine()).toMatchObject({ level: 'info', Listing: 'QueryScriptsByStatus', Complete: true, Listed: 4, Selected: 2, Withdrawn: 2, Failed: 0, Skipped: 2, Dispatched: 0, Truncated: false, DryRun: false, Remaining: 0 });
    expect(logs().filter((l) => l.level === 'warn')).toEqual([]);
    expect(typeof summaryLine()!.durationMs).toBe('number');
    const all = lines.join('\n');
    for (const [name, secret] of Object.entries({ accessKeySecret: stack.role.accessKeySecret, securityToken: stack.role.securityToken })) expect(all, `${name} in the log`).not.toContain(secret);
  });

  it('a dry run lists what it would withdraw and changes nothing', async () => {
    const old = [scriptAged('EXAMINE_IN_PROGRESS', 120), scriptAged('PUBLISHED_AND_EXAMINE_IN_PROGRESS', 90)];
    const instanceId = instanceWith([...old, scriptAged('EXAMINE_IN_PROGRESS', 10), scriptAged('PUBLISHED', 500)]);
    const { service, logs } = cleanupFor();

    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60, DryRun: true }));

    expect(result).toMatchObject({ Success: true, DryRun: true, Listed: 3, Selected: 2, Skipped: 1, Withdrawn: 0, Failed: 0, Truncated: false });
    expect(result.Candidates!.map((c) => c.ScriptId)).toEqual(old.map((s) => s.ScriptId));
    expect(result.Results).toBeUndefined();
    expect(requestsFor('WithdrawScriptReview', instanceId)).toHaveLength(0);
    for (const s of old) expect(stack.emulator.script(instanceId, s.ScriptId)!.Status, `status of ${s.ScriptName} (${s.ScriptId})`).toBe(s.Status);
    expect(logs().filter((l) => l.message === 'would withdraw (dry run)').map((l) => l.ScriptId)).toEqual(old.map((s) => s.ScriptId));
  });

  it('pages through 350 reviews with QueryScriptsByStatus, 100 at a time, and withdraws the stale ones on every page', async () => {
    // 350 reviews (half of them stale) interleaved with 350 scripts in other states.
    const scripts = Array.from({ length: 700 }, (_, i) =>
      scriptAged(i % 2 === 0 ? ['EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS'][i % 4 === 0 ? 0 : 1]! : ALL_STATES[i % 9]!, i % 4 < 2 ? 600 : 1),
    );
    const instanceId = instanceWith(scripts);
    const reviews = scripts.filter((s) => REVIEW.has(s.Status));
    const expected = reviews.filter((s) => s.ScriptName.endsWith(' 600 min'));
    expect([reviews.length, expected.length]).toEqual([350, 175]);
    const { service } = cleanupFor();

    const result = await run(service, { InstanceId: instanceId, OlderThanMinutes: 60 });

    const pages = requestsFor('QueryScriptsByStatus', instanceId);
    expect(pages.map((r) => [r.query.PageNumber, r.query.PageSize, r.query['StatusList.1'], r.query['StatusList.2']])).toEqual(
      ['1', '2', '3', '4'].map((n) => [n, '100', 'EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS']),
    );
    expect(requestsFor('ListScripts', instanceId)).toEqual([]);
    expect(result).toMatchObject({ Success: true, Listing: 'QueryScriptsByStatus', Pages: 4, Complete: true, Listed: 350, Selected: 175, Withdrawn: 175, Skipped: 175 });
    for (const s of scripts) expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName} (${s.ScriptId})`).toBe(expected.includes(s) ? 1 : 0);
  });

  it('MaxWithdrawals caps the run, oldest first; the rest wait for the next run', async () => {
    const scripts = Array.from({ length: 12 }, (_, i) => scriptAged('EXAMINE_IN_PROGRESS', 100 + i * 10));
    const instanceId = instanceWith(scripts);
    const { service } = cleanupFor();

    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60, MaxWithdrawals: 5 }));

    const oldestFive = [...scripts].reverse().slice(0, 5);
    expect(result).toMatchObject({ Success: true, Listed: 12, Eligible: 12, Selected: 5, Skipped: 7, Withdrawn: 5, MaxWithdrawals: 5 });
    expect(result.Results!.map((r) => r.ScriptId)).toEqual(oldestFive.map((s) => s.ScriptId));
    for (const s of scripts) expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName} (${s.ScriptId})`).toBe(oldestFive.includes(s) ? 1 : 0);

    const next = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60, MaxWithdrawals: 5 }));
    expect(next).toMatchObject({ Eligible: 7, Withdrawn: 5 });
  });

  it('an upstream outage mid-run fails some withdrawals with their Code; the others still succeed', async () => {
    const scripts = Array.from({ length: 10 }, (_, i) => scriptAged('EXAMINE_IN_PROGRESS', 1_000 - i));
    const instanceId = instanceWith(scripts);
    // One at a time and two attempts each: the four 500s sink exactly the first two withdrawals.
    const { service, logs, summaryLine } = cleanupFor({ CLEANUP_CONCURRENCY: '1', RETRY_MAX_ATTEMPTS: '2' });
    stack.emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 4, action: 'WithdrawScriptReview' });

    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));

    expect(result).toMatchObject({ Success: false, Selected: 10, Withdrawn: 8, Failed: 2, Truncated: false });
    const failed = result.Results!.filter((r) => !r.Success);
    expect(failed.map((r) => r.ScriptId)).toEqual(scripts.slice(0, 2).map((s) => s.ScriptId));
    for (const r of failed) expect(r, `result for ${r.ScriptId}`).toMatchObject({ Code: 'InternalError', HttpStatusCode: 502, Attempts: 2, Retryable: true });
    for (const [i, s] of scripts.entries()) expect(stack.emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of script #${i} (${s.ScriptId})`).toBe(i < 2 ? 0 : 1);
    expect(logs().filter((l) => l.message === 'withdrawal failed')).toHaveLength(2);
    expect(summaryLine()).toMatchObject({ level: 'error', Withdrawn: 8, Failed: 2 });
  });

  it('retries a listing page that fails once, under the same policy', async () => {
    const instanceId = instanceWith([scriptAged('EXAMINE_IN_PROGRESS', 500)]);
    stack.emulator.injectFault({ kind: 'reset' }, { action: 'QueryScriptsByStatus' });
    const result = await run(cleanupFor().service, { InstanceId: instanceId, OlderThanMinutes: 60 });
    expect(result).toMatchObject({ Success: true, Listing: 'QueryScriptsByStatus', Withdrawn: 1 });
    expect(requestsFor('QueryScriptsByStatus', instanceId).map((r) => r.status)).toEqual([0, 200]); // 0: the connection was reset
  });

  it('a listing that fails for good is a failed run, logged at error and returned, not thrown; nothing is withdrawn', async () => {
    const instanceId = instanceWith([scriptAged('EXAMINE_IN_PROGRESS', 500)]);
    stack.emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' }, { times: 10, action: 'QueryScriptsByStatus' });
    const { service, summaryLine } = cleanupFor({ RETRY_MAX_ATTEMPTS: '3' });

    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));

    expect(result).toMatchObject({
      Success: false,
      Code: 'ServiceUnavailable',
      Listing: 'QueryScriptsByStatus',
      Complete: false,
      Listed: 0,
      Selected: 0,
      Withdrawn: 0,
      ListingFailure: { Code: 'ServiceUnavailable', HttpStatusCode: 503, PageNumber: 1, Attempts: 3 },
    });
    expect(result.Message).toContain('QueryScriptsByStatus failed on page 1');
    // A 503 says nothing about the action: no fallback to ListScripts.
    expect(requestsFor('ListScripts', instanceId)).toHaveLength(0);
    expect(requestsFor('WithdrawScriptReview', instanceId)).toHaveLength(0);
    expect(summaryLine()).toMatchObject({ level: 'error', Code: 'ServiceUnavailable' });
  });

  it('an unknown instance is reported with the upstream Code, not retried, and is no reason to fall back', async () => {
    const result = await run(cleanupFor().service, { InstanceId: 'no-such-instance', OlderThanMinutes: 60 });
    expect(result).toMatchObject({ Success: false, Code: 'NotExist.Instance', Listing: 'QueryScriptsByStatus', ListingFailure: { HttpStatusCode: 404, Attempts: 1 } });
    expect(requestsFor('QueryScriptsByStatus', 'no-such-instance')).toHaveLength(1);
    expect(requestsFor('ListScripts', 'no-such-instance')).toHaveLength(0);
  });

  it('stops taking new work before the deadline and reports the rest as Remaining', async () => {
    const scripts = Array.from({ length: 60 }, (_, i) => scriptAged('EXAMINE_IN_PROGRESS', 1_000 - i));
    const instanceId = instanceWith(scripts);
    stack.emulator.setLatency(100);
    const { service, summaryLine } = cleanupFor({ CLEANUP_CONCURRENCY: '2' });

    // timeout 3 s: deadline at 2.7 s, intake ends at 2.43 s; 60 withdrawals two at a time would need ~3 s.
    const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), 3);

    expect(result.Truncated).toBe(true);
    expect(result.Success).toBe(false);
    expect(result.durationMs).toBeLessThan(2_700);
    const started = result.Results!.map((r) => r.ScriptId);
    const remaining = result.Remaining.map((r) => r.ScriptId);
    expect(started.length).toBeGreaterThan(0);
    expect(remaining.length).toBeGreaterThan(0);
    // Oldest first: what was started precedes what remains, and together they are the selection.
    expect([...started, ...remaining]).toEqual(scripts.map((s) => s.ScriptId));
    for (const r of result.Results!) expect(r.Success, `result for ${r.ScriptId}: ${r.Code}`).toBe(true);
    expect(result).toMatchObject({ Withdrawn: started.length, Failed: 0 });
    for (const r of result.Remaining) {
      expect(r.InstanceId, `InstanceId of remaining ${r.ScriptId}`).toBe(instanceId);
      expect(stack.emulator.withdrawals(instanceId, r.ScriptId), `withdrawals of remaining ${r.ScriptId}`).toBe(0);
    }
    expect(summaryLine()).toMatchObject({ level: 'warn', Truncated: true, Remaining: remaining.length });
  });

  it('a bad payload is an InvalidParameter result naming the field, logged, never thrown, no API call', async () => {
    const before = stack.emulator.requests.length;
    const { service, logs } = cleanupFor();
    const result = (await service.handle(timerEvent({ InstanceId: 'bad id!', OlderThanMinutes: -5 }), contextFor(stack.role, 60, 'bad-payload'))) as Record<string, any>;
    expect(result).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter', RequestId: 'bad-payload' });
    expect(result.Issues.map((i: { Path: string }) => i.Path)).toEqual(['payload.InstanceId', 'payload.OlderThanMinutes']);
    expect(result.Message).toContain('payload.OlderThanMinutes');
    expect(logs()).toEqual([expect.objectContaining({ level: 'error', message: 'cleanup refused', Code: 'InvalidParameter', requestId: 'bad-payload' })]);
    expect(stack.emulator.requests.length).toBe(before);
  });

  it('the timer envelope and the direct object run the same cleanup', async () => {
    const payload = { OlderThanMinutes: 60, DryRun: true };
    const instanceId = instanceWith([scriptAged('EXAMINE_IN_PROGRESS', 500), scriptAged('DRAFTED', 500)]);
    const viaTimer = cleanupFor();
    const direct = cleanupFor();
    const a = await run(viaTimer.service, timerEvent({ ...payload, InstanceId: instanceId }));
    const b = await run(direct.service, Buffer.from(JSON.stringify({ ...payload, InstanceId: instanceId })));
    const c = await run(direct.service, { ...payload, InstanceId: instanceId });
    for (const [how, r] of Object.entries({ timer: a, 'direct Buffer': b, 'direct object': c })) expect(r, `run via ${how}`).toMatchObject({ Success: true, Listed: 1, Selected: 1 });
    expect(viaTimer.summaryLine()!.trigger).toBe('timer');
    expect(direct.summaryLine()!.trigger).toBe('invoke');
  });

  it('without credentials it reports MissingCredentials and calls nothing', async () => {
    const before = stack.emulator.requests.length;
    const { service } = cleanupFor();
    const result = (await service.handle({ InstanceId: randomUUID(), OlderThanMinutes: 60 }, contextFor(undefined))) as Record<string, unknown>;
    expect(result).toMatchObject({ Success: false, HttpStatusCode: 500, Code: 'MissingCredentials' });
    expect(stack.emulator.requests.length).toBe(before);
  });

  it('a bad setting is an InvalidConfiguration result naming the variable', async () => {
    const result = (await cleanupFor({ CLEANUP_CONCURRENCY: '0' }).service.handle({ InstanceId: randomUUID(), OlderThanMinutes: 60 }, contextFor(stack.role))) as Record<string, any>;
    expect(result).toMatchObject({ Success: false, HttpStatusCode: 500, Code: 'InvalidConfiguration' });
    expect(result.Message).toContain('CLEANUP_CONCURRENCY');
  });

  describe('the run callback', () => {
    let receiver: Server;
    let received: Array<{ headers: Record<string, string | string[] | undefined>; body: Record<string, any> }>;
    let port: number;
    beforeAll(async () => {
      received = [];
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      port = (receiver.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    it('sends one signed callback per run carrying the summary and results', async () => {
      const instanceId = instanceWith([scriptAged('EXAMINE_IN_PROGRESS', 500), scriptAged('PUBLISHED', 500)]);
      const secret = `whsec_${Buffer.from('cleanup-callback-secret-32-bytes!').toString('base64')}`;
      const { service, lines, summaryLine } = cleanupFor({
        CALLBACK_URL: `http://127.0.0.1:${port}/hooks/cleanup`,
        CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${port}`,
        CALLBACK_SECRET: secret,
      });

      const result = await run(service, timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }));

      expect(result.Callback).toMatchObject({ Delivered: true, StatusCode: 204, Attempts: 1 });
      expect(received).toHaveLength(1);
      const [call] = received;
      expect(call!.headers['webhook-signature']).toMatch(/^v1,/);
      expect(call!.body).toMatchObject({ InstanceId: instanceId, Listing: 'QueryScriptsByStatus', Complete: true, Listed: 1, Selected: 1, Withdrawn: 1, Success: true });
      expect(call!.body.Results).toHaveLength(1);
      expect(summaryLine()).toMatchObject({ callbackDelivered: true });
      expect(lines.join('\n')).not.toContain(secret.slice(6));
    });
  });
});
