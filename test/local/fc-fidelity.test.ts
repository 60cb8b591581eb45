// Where the local FC front end must behave as FC does (issue #25.6): a function's timeout ends
// its invocation (sync: an error answer; async: a failure that is retried), each function gets
// the async retries s.yaml gives it (the banner's lines are in test/local/npm-start.test.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrontend, type Frontend, type LocalFunction } from '../../local/fc-frontend';
import { deployedSettings } from '../../local/local-stack';
import { signedInvocation } from './signed-invocation';

const KEY = { accessKeyId: 'LTAI5tFidelityTestKey', accessKeySecret: 'fidelity-test-secret' };
const ROOT = path.resolve(__dirname, '../..');
let frontend: Frontend;
const log: string[] = [];
let hungCalls = 0;
const functions = new Map<string, LocalFunction>();

beforeAll(async () => {
  // Never answers: only the timeout can end its invocation.
  functions.set('hung', { handler: () => (hungCalls++, new Promise(() => undefined)), timeoutSeconds: 1, asyncRetries: 1 });
  functions.set('quick', { handler: async () => ({ ok: true }), timeoutSeconds: 1 });
  frontend = await startFrontend({
    host: '127.0.0.1',
    port: 0,
    functions,
    httpFunction: 'hung',
    keys: new Map([[KEY.accessKeyId, { accessKeySecret: KEY.accessKeySecret }]]),
    roleCredentials: () => ({}),
    asyncRetries: 5,
    asyncRetryDelayMs: 1,
    log: (line) => log.push(line),
  });
});
afterAll(() => frontend?.close());

describe('the local FC front end, as FC', () => {
  it('ends a sync invocation at the function timeout with FC\'s error answer', async () => {
    const startMs = Date.now();
    const answer = await signedInvocation(frontend.url, 'hung', '{}', { key: KEY });
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(950);
    expect(Date.now() - startMs).toBeLessThan(3_000);
    expect(answer.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(answer.json()).toMatchObject({ errorMessage: 'Function timed out after 1 seconds', errorType: 'FunctionTimeoutError' });
  });

  it('an HTTP-trigger request past the timeout is a 502 FunctionTimeout', async () => {
    const response = await fetch(`${frontend.url}/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ Code: 'FunctionTimeout' });
  });

  it('an async invocation that times out is a failure: retried as many times as the function says, not the front end\'s default, then dropped (it names no on-failure destination)', async () => {
    hungCalls = 0;
    const answer = await signedInvocation(frontend.url, 'hung', '{}', { key: KEY, async: true });
    expect(answer.status).toBe(202);
    await frontend.drain();
    const requestId = answer.headers.get('x-fc-request-id');
    const lines = log.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.requestId === requestId);
    expect(hungCalls).toBe(2);
    expect(lines.map((line) => line.message)).toEqual(['async invocation failed', 'async invocation failed', 'async invocation dropped: no on-failure destination']);
  }, 10_000);

  it('reads each function\'s timeout, async retries and failure queue from s.yaml (the cleanup gets 1 retry, the withdraw function 2)', () => {
    expect(deployedSettings(ROOT)).toEqual({
      withdraw: { timeoutSeconds: 30, asyncRetries: 2, failureQueue: 'withdraw-script-review-failures' },
      cleanup: { timeoutSeconds: 600, asyncRetries: 1, failureQueue: 'withdraw-script-review-failures' },
    });
  });
});
