// Fan-out end to end: the built cleanup bundle async-invokes the built withdraw bundle through the
// local FC front end (which checks the signature @alicloud/fc2 makes, and refuses a reused
// x-fc-async-task-id with 409 as FC does), which withdraws against the emulator.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { createCleanupService } from '../../lib/cleanup/service';
import type { CleanupResult } from '../../lib/cleanup/summary';
import { systemClock } from '../../lib/core/clock';
import type { FcHandler, Frontend } from '../../local/fc-frontend';
import { startFanoutStack, timerEvent, WITHDRAW_FUNCTION, type FanoutStack } from '../support/fanout-stack';
import { contextFor, type RoleCredentials } from '../support/stack';

let stack: FanoutStack;
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let frontend: Frontend;
let cleanup: FcHandler;
let stdoutLines: string[];
let frontendLog: string[];

beforeAll(async () => {
  stack = await startFanoutStack();
  ({ emulator, role, frontend, cleanup, stdoutLines, frontendLog } = stack);
});

afterAll(async () => {
  await stack?.close();
});

const staleInstance = (reviews: number, others: string[]) => stack.staleInstance(reviews, others);

describe('cleanup fan-out through @alicloud/fc2 and the local FC front end', () => {
  it('keeps @alicloud/fc2 out of the withdraw bundle and lazily inside the cleanup bundle', () => {
    const fromPackage = (name: string, pkg: string) => Object.keys(stack.metafiles[name]!.inputs).some((input) => input.includes(`node_modules/${pkg}/`));
    expect(fromPackage('withdraw', '@alicloud/fc2')).toBe(false);
    expect(fromPackage('withdraw', 'ali-oss')).toBe(false);
    expect(fromPackage('cleanup', '@alicloud/fc2')).toBe(true);
  });

  it('queues the selected scripts in chunks; the withdraw function withdraws each exactly once', async () => {
    const { instanceId, stale, all } = staleInstance(7, ['DRAFTED', 'PUBLISHED', 'PUBLISH_FAILED']);

    const result = (await cleanup(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(role, 60, 'fanout-ok'))) as CleanupResult;

    // The three in other states are not even listed (QueryScriptsByStatus asks for reviews); the young review is skipped.
    expect(result).toMatchObject({ Success: true, Mode: 'fanout', Listing: 'QueryScriptsByStatus', Listed: 8, Selected: 7, Skipped: 1, Dispatched: 7, Withdrawn: 0, Failed: 0, Truncated: false });
    expect(result.Chunks!.map((c) => [c.Index, c.Size, c.Success, c.Code])).toEqual([
      [0, 3, true, 'Accepted'],
      [1, 3, true, 'Accepted'],
      [2, 1, true, 'Accepted'],
    ]);
    for (const c of result.Chunks!) expect(c.RequestId, `RequestId of chunk ${c.Index}`).toMatch(/^[0-9a-f-]{36}$/);
    await frontend.drain();
    for (const s of all) expect(emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName} (${s.ScriptId})`).toBe(stale.includes(s) ? 1 : 0);
    // The withdraw function logged each item under the async invocation's request id.
    const withdrawn = stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'withdrawal succeeded' && l.InstanceId === instanceId);
    expect(withdrawn).toHaveLength(7);
    expect(new Set(withdrawn.map((l) => l.requestId))).toEqual(new Set(result.Chunks!.map((c) => c.RequestId)));
    expect(frontendLog.filter((l) => l.includes('async invocation failed'))).toEqual([]);
    for (const [name, secret] of Object.entries({ accessKeySecret: role.accessKeySecret, securityToken: role.securityToken })) expect(stdoutLines.join('\n'), `${name} in the log`).not.toContain(secret);
  });

  it('FC retrying the run (same requestId) queues no chunk twice: FC refuses each task id it holds, and the summary says so', async () => {
    const { instanceId, stale, all } = staleInstance(7, ['DRAFTED']);
    const before = frontend.counts(WITHDRAW_FUNCTION);
    const event = timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 });
    let openQueue!: () => void;
    // The chunks stay queued, their scripts still under review, while FC runs the timer event again.
    const queueOpen = new Promise<void>((resolve) => (openQueue = resolve));
    stack.gate = () => queueOpen;
    let first: CleanupResult;
    let retried: CleanupResult;
    try {
      first = (await cleanup(event, contextFor(role, 60, 'fanout-retried-run'))) as CleanupResult;
      retried = (await cleanup(event, contextFor(role, 60, 'fanout-retried-run'))) as CleanupResult;
    } finally {
      openQueue();
      stack.gate = async () => {};
    }

    expect(first).toMatchObject({ Success: true, Selected: 7, Dispatched: 7, AlreadyDispatched: 0, Failed: 0 });
    expect(first.Chunks!.map((c) => c.Code)).toEqual(['Accepted', 'Accepted', 'Accepted']);
    // The retry lists the same reviews, so the same chunks: each is reported queued, by the earlier run.
    expect(retried).toMatchObject({ Success: true, Selected: 7, Dispatched: 7, AlreadyDispatched: 7, Failed: 0 });
    expect(retried.Chunks!.map((c) => [c.Index, c.Size, c.Success, c.Code, c.HttpStatusCode, c.Attempts])).toEqual([
      [0, 3, true, 'AlreadyDispatched', 409, 1],
      [1, 3, true, 'AlreadyDispatched', 409, 1],
      [2, 1, true, 'AlreadyDispatched', 409, 1],
    ]);
    expect(retried.Chunks!.map((c) => c.TaskId)).toEqual(first.Chunks!.map((c) => c.TaskId));
    expect(new Set(first.Chunks!.map((c) => c.TaskId)).size).toBe(3);
    await frontend.drain();
    const after = frontend.counts(WITHDRAW_FUNCTION);
    expect({ async: after.async - before.async, duplicateTasks: after.duplicateTasks - before.duplicateTasks }).toEqual({ async: 3, duplicateTasks: 3 });
    // Each script was withdrawn once, by one invocation: no second log line (not even one answered from a lock).
    for (const s of all) expect(emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName} (${s.ScriptId})`).toBe(stale.includes(s) ? 1 : 0);
    const lines = stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => String(l.message).startsWith('withdrawal') && l.InstanceId === instanceId)).toHaveLength(7);
    const summaries = lines.filter((l) => l.requestId === 'fanout-retried-run' && String(l.message).startsWith('cleanup finished'));
    expect(summaries.map((l) => [l.Dispatched, l.AlreadyDispatched])).toEqual([[7, 0], [7, 7]]);
    expect(lines.filter((l) => l.requestId === 'fanout-retried-run' && l.message === 'chunk already dispatched')).toHaveLength(3);
  });

  it('a refused signature fails every chunk without retrying it, lists the items, and nothing is withdrawn', async () => {
    const { instanceId, stale } = staleInstance(4, ['DRAFTED']);
    stack.keys.set(role.accessKeyId, { accessKeySecret: randomBytes(24).toString('base64'), securityToken: role.securityToken });
    try {
      const result = (await cleanup(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(role, 60, 'fanout-refused'))) as CleanupResult;

      expect(result).toMatchObject({ Success: false, Mode: 'fanout', Selected: 4, Dispatched: 0, Failed: 4 });
      expect(result.Chunks).toHaveLength(2);
      for (const c of result.Chunks!) expect(c, `chunk ${c.Index}`).toMatchObject({ Success: false, HttpStatusCode: 403, Code: 'Http403', Attempts: 1 });
      // Oldest first: the last-made script is the oldest.
      expect(result.Chunks!.flatMap((c) => c.NotDispatched!.map((i) => i.ScriptId))).toEqual([...stale].reverse().map((s) => s.ScriptId));
      await frontend.drain();
      for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptName} (${s.ScriptId})`).toBe(0);
      const failures = stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === 'fanout-refused' && l.message === 'chunk dispatch failed');
      expect(failures).toHaveLength(2);
      expect(failures[0]).toMatchObject({ level: 'error', HttpStatusCode: 403 });
    } finally {
      stack.keys.set(role.accessKeyId, { accessKeySecret: role.accessKeySecret, securityToken: role.securityToken });
    }
  });
});

describe('fan-out failure handling (the service in-process, FC played by a scripted server)', () => {
  function serviceWith(env: Record<string, string>) {
    const lines: string[] = [];
    const service = createCleanupService({
      env: { OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', CLEANUP_MODE: 'fanout', ...env },
      clock: systemClock,
      write: (line) => lines.push(line),
    });
    return { service, lines };
  }

  it('retries a chunk that FC answers 503, under the same retry policy', async () => {
    const answers = [503, 202];
    const seen: Array<{ path: string; type: string | undefined; taskId: string | undefined }> = [];
    const fc = createServer((req, res) => {
      seen.push({ path: req.url ?? '', type: req.headers['x-fc-invocation-type'] as string | undefined, taskId: req.headers['x-fc-async-task-id'] as string | undefined });
      req.resume().on('end', () => {
        const status = answers.shift() ?? 202;
        if (status === 202) res.writeHead(202, { 'x-fc-request-id': 'queued-1' }).end();
        else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ Code: 'ServiceUnavailable', Message: 'busy' }));
      });
    });
    await new Promise<void>((resolve) => fc.listen(0, '127.0.0.1', resolve));
    try {
      const { instanceId } = staleInstance(2, []);
      const { service } = serviceWith({ FC_ENDPOINT: `http://127.0.0.1:${(fc.address() as AddressInfo).port}/` });
      const result = (await service.handle({ InstanceId: instanceId, OlderThanMinutes: 60 }, contextFor(role))) as CleanupResult;
      expect(result).toMatchObject({ Success: true, Dispatched: 2 });
      expect(result.Chunks).toEqual([expect.objectContaining({ Success: true, Code: 'Accepted', Attempts: 2, RequestId: 'queued-1', Size: 2 })]);
      // Both attempts carry the chunk's one task id, so FC could refuse the second had the first been queued.
      const taskId = result.Chunks![0]!.TaskId;
      expect(taskId).toMatch(/^cleanup-[\w-]+-0-[0-9a-f]{16}$/);
      expect(seen).toEqual([
        { path: `/2023-03-30/functions/${WITHDRAW_FUNCTION}/invocations`, type: 'Async', taskId },
        { path: `/2023-03-30/functions/${WITHDRAW_FUNCTION}/invocations`, type: 'Async', taskId },
      ]);
    } finally {
      await new Promise<void>((resolve) => fc.close(() => resolve()));
    }
  });

  it('a chunk whose answer was lost is sent again under its task id: the front end refuses it (409) and it counts as dispatched, once', async () => {
    const taskIds: Array<string | undefined> = [];
    // Between the cleanup and the real front end: the first answer (a 202, the chunk queued) never reaches the cleanup.
    const lossy = createServer((req, res) => {
      const body: Buffer[] = [];
      req.on('data', (part: Buffer) => body.push(part)).on('end', () => {
        taskIds.push(req.headers['x-fc-async-task-id'] as string | undefined);
        const first = taskIds.length === 1;
        const upstream = request(`${frontend.url}${req.url}`, { method: req.method, headers: req.headers as IncomingHttpHeaders }, (answer) => {
          if (first) return void (answer.resume(), res.socket?.destroy());
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.end(Buffer.concat(body));
      });
    });
    await new Promise<void>((resolve) => lossy.listen(0, '127.0.0.1', resolve));
    try {
      const { instanceId, stale } = staleInstance(2, []);
      const before = frontend.counts(WITHDRAW_FUNCTION);
      const { service } = serviceWith({ FC_ENDPOINT: `http://127.0.0.1:${(lossy.address() as AddressInfo).port}` });
      const result = (await service.handle({ InstanceId: instanceId, OlderThanMinutes: 60 }, contextFor(role, 60, `lost-${randomUUID()}`))) as CleanupResult;

      expect(result).toMatchObject({ Success: true, Dispatched: 2, AlreadyDispatched: 2, Failed: 0 });
      expect(result.Chunks).toEqual([expect.objectContaining({ Success: true, Code: 'AlreadyDispatched', HttpStatusCode: 409, Attempts: 2, Size: 2 })]);
      expect(taskIds).toEqual([result.Chunks![0]!.TaskId, result.Chunks![0]!.TaskId]);
      await frontend.drain();
      const after = frontend.counts(WITHDRAW_FUNCTION);
      expect({ async: after.async - before.async, duplicateTasks: after.duplicateTasks - before.duplicateTasks }).toEqual({ async: 1, duplicateTasks: 1 });
      for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId)).toBe(1);
    } finally {
      lossy.closeAllConnections();
      await new Promise<void>((resolve) => lossy.close(() => resolve()));
    }
  });

  it('reports a chunk FC cannot be reached for, after the retries, as not dispatched', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { instanceId, stale } = staleInstance(1, []);
    const { service } = serviceWith({ FC_ENDPOINT: `http://127.0.0.1:${port}`, RETRY_MAX_ATTEMPTS: '3' });
    const result = (await service.handle({ InstanceId: instanceId, OlderThanMinutes: 60 }, contextFor(role))) as CleanupResult;
    expect(result).toMatchObject({ Success: false, Dispatched: 0, Failed: 1 });
    expect(result.Chunks![0]).toMatchObject({ Success: false, Code: 'ECONNREFUSED', Attempts: 3, NotDispatched: [{ InstanceId: instanceId, ScriptId: stale[0]!.ScriptId }] });
  });

  it('without an account id (no context, no FC_ACCOUNT_ID) it refuses before listing', async () => {
    const before = emulator.requests.length;
    const { service } = serviceWith({ FC_REGION: 'cn-shanghai' });
    const context = { ...contextFor(role), accountId: undefined };
    const result = (await service.handle({ InstanceId: randomUUID(), OlderThanMinutes: 60 }, context)) as Record<string, any>;
    expect(result).toMatchObject({ Success: false, Code: 'InvalidConfiguration' });
    expect(result.Message).toContain('FC_ACCOUNT_ID');
    expect(emulator.requests.length).toBe(before);
  });
});
