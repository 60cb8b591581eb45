// The local FC front end's async tasks, as FC runs them with asyncTask enabled: an async
// invocation with an `x-fc-async-task-id` it already accepted for that function is refused with
// 409 and not queued again; an id outside FC's rule is refused with 400. Over real HTTP, signed by
// @alicloud/fc2 (the client the cleanup's fan-out uses), whose signature covers the header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFc3Client, invokeFunction } from '../../lib/fc/client';
import { startFrontend, type Frontend, type LocalFunction } from '../../local/fc-frontend';
import { LOCAL_ACCOUNT_ID } from '../../local/local-keys';
import { signedInvocation } from './signed-invocation';

const KEY = { accessKeyId: 'LTAI5tAsyncTaskTestKey', accessKeySecret: 'async-task-test-secret' };

let frontend: Frontend;
/** Each run of a handler: which function, which payload. */
const runs: Array<{ fn: string; payload: string }> = [];
const standIn = (fn: string): LocalFunction => ({ handler: async (event) => void runs.push({ fn, payload: event.toString('utf8') }), timeoutSeconds: 30 });
const functions = new Map<string, LocalFunction>();

beforeAll(async () => {
  const withdraw = standIn('withdraw');
  // One function under two names, as the local stack registers each deployed function.
  functions.set('withdraw', withdraw).set('withdraw-script-review-withdraw', withdraw).set('other', standIn('other'));
  frontend = await startFrontend({
    host: '127.0.0.1',
    port: 0,
    functions,
    httpFunction: 'withdraw',
    keys: new Map([[KEY.accessKeyId, { accessKeySecret: KEY.accessKeySecret }]]),
    roleCredentials: () => ({}),
    asyncRetries: 0,
    asyncRetryDelayMs: 1,
    log: () => {},
  });
});
afterAll(() => frontend?.close());

const fc2 = () => createFc3Client({ accountId: LOCAL_ACCOUNT_ID, region: 'cn-shanghai', endpoint: frontend.url, credentials: KEY }, 5_000);

/** An async invocation signed as fc2 signs it, its answer's body parsed. */
async function invokeAsync(name: string, payload: unknown, taskId?: string) {
  const answer = await signedInvocation(frontend.url, name, JSON.stringify(payload), { key: KEY, async: true, taskId });
  return { status: answer.status, headers: answer.headers, body: answer.text === '' ? undefined : answer.json() };
}

const runsOf = (fn: string, payload: unknown) => runs.filter((r) => r.fn === fn && r.payload === JSON.stringify(payload)).length;

describe('async tasks on the local FC front end', () => {
  it('queues a task id once: the same id again is 409, not queued, for either name of the function', async () => {
    const before = frontend.counts('withdraw');
    const payload = { Items: [{ InstanceId: 'i-1', ScriptId: 's-1' }] };

    const first = await invokeAsync('withdraw-script-review-withdraw', payload, 'cleanup-run1-0-0123456789abcdef');
    const again = await invokeAsync('withdraw-script-review-withdraw', payload, 'cleanup-run1-0-0123456789abcdef');
    const byShortName = await invokeAsync('withdraw', payload, 'cleanup-run1-0-0123456789abcdef');
    await frontend.drain();

    expect(first.status).toBe(202);
    expect(first.headers.get('x-fc-async-task-id')).toBe('cleanup-run1-0-0123456789abcdef');
    for (const refused of [again, byShortName]) {
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ Code: 'StatefulAsyncInvocationAlreadyExists', RequestId: refused.headers.get('x-fc-request-id') });
    }
    expect(runsOf('withdraw', payload)).toBe(1);
    const after = frontend.counts('withdraw-script-review-withdraw');
    expect({ async: after.async - before.async, duplicateTasks: after.duplicateTasks - before.duplicateTasks }).toEqual({ async: 1, duplicateTasks: 2 });
  });

  it('keeps task ids per function, and queues every invocation that carries none', async () => {
    const payload = { n: 'per-function' };
    expect((await invokeAsync('withdraw', payload, 'shared-task-id')).status).toBe(202);
    expect((await invokeAsync('other', payload, 'shared-task-id')).status).toBe(202);
    expect((await invokeAsync('withdraw', payload)).status).toBe(202);
    expect((await invokeAsync('withdraw', payload)).status).toBe(202);
    await frontend.drain();
    expect([runsOf('withdraw', payload), runsOf('other', payload)]).toEqual([3, 1]);
  });

  it("refuses a task id outside FC's rule with 400 and queues nothing", async () => {
    const payload = { n: 'bad-ids' };
    for (const bad of ['1-starts-with-a-digit', 'has.dot', 'has space', 'x'.repeat(129)]) {
      const answer = await invokeAsync('withdraw', payload, bad);
      expect(answer.status, bad).toBe(400);
      expect(answer.body, bad).toMatchObject({ Code: 'InvalidArgument' });
    }
    expect((await invokeAsync('withdraw', payload, `_${'x'.repeat(127)}`)).status).toBe(202);
    await frontend.drain();
    expect(runsOf('withdraw', payload)).toBe(1);
  });

  it('fc2 carries the header under its signature, and reports the 409 in what it throws', async () => {
    const payload = { n: 'through-fc2' };
    const answer = await invokeFunction(fc2(), 'withdraw', payload, 'Async', { 'x-fc-async-task-id': 'through-fc2-task' });
    expect(answer.headers['x-fc-async-task-id']).toBe('through-fc2-task');
    await expect(invokeFunction(fc2(), 'withdraw', payload, 'Async', { 'x-fc-async-task-id': 'through-fc2-task' })).rejects.toThrow(/failed with 409\./);
    await frontend.drain();
    expect(runsOf('withdraw', payload)).toBe(1);
  });

  it('counts synchronous invocations apart, and a name never invoked as zero', async () => {
    const before = frontend.counts('other');
    await invokeFunction(fc2(), 'other', { n: 'sync' }, 'Sync');
    expect(frontend.counts('other')).toEqual({ ...before, sync: before.sync + 1 });
    expect(frontend.counts('no-such-function')).toEqual({ sync: 0, async: 0, duplicateTasks: 0 });
  });
});
