/**
 * `npm start` end to end: the stack local/server.ts wires (built bundles, FC front end,
 * emulator) over real loopback HTTP. The built server as a process, whose printed lines must
 * work exactly as printed, is test/local/npm-start.test.ts.
 */
import { script } from '../support/stack';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { FcContext } from '../../lib/fc/context';
import type { FcHandler } from '../../local/fc-frontend';
import { LOCAL_ACCOUNT_ID, LOCAL_FC_KEY } from '../../local/local-keys';
import type { LocalStack } from '../../local/local-stack';
import { scriptUnderReview, startTestStack } from '../support/local-stack';
import { signedInvocation, type Key, type SignedInvocationOptions } from './signed-invocation';

interface Fc2Client {
  version: string;
  post(path: string, body: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | undefined>; data: unknown }>;
}
type Fc2 = new (accountId: string, config: Record<string, unknown>) => Fc2Client;
const FC = createRequire(import.meta.url)('@alicloud/fc2') as Fc2;

let stack: LocalStack & { emulator: OutboundBotEmulator };
let url: string;
const frontendLog: string[] = [];

beforeAll(async () => {
  stack = await startTestStack((line) => frontendLog.push(line));
  url = stack.frontend.url;
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** The FC SDK itself, pointed at the local front end on the FC 3.0 invoke path. */
function fc2(key: Key = LOCAL_FC_KEY): Fc2Client {
  const client = new FC(LOCAL_ACCOUNT_ID, { accessKeyID: key.accessKeyId, accessKeySecret: key.accessKeySecret, region: 'cn-shanghai', endpoint: url, timeout: 10_000 });
  client.version = '2023-03-30';
  return client;
}

/** {@link signedInvocation} to the local stack, with its key unless told otherwise. */
const signedInvoke = (name: string, body: string, options: Partial<SignedInvocationOptions> = {}) => signedInvocation(url, name, body, { key: LOCAL_FC_KEY, ...options });

/** A stand-in function registered beside the real ones; it records every call. */
function fakeFunction(name: string, behaviour: (call: number) => Promise<unknown>) {
  const calls: Array<{ event: string; context: FcContext }> = [];
  const handler: FcHandler = async (event, context) => {
    calls.push({ event: event.toString('utf8'), context });
    return behaviour(calls.length);
  };
  stack.functions.set(name, { handler, timeoutSeconds: 5 });
  return calls;
}

function postJson(body: string, init: RequestInit = {}) {
  return fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...init });
}

describe('HTTP trigger (plain requests)', () => {
  it('a POST with a JSON body withdraws the script', async () => {
    const item = scriptUnderReview(stack.emulator);
    const response = await postJson(JSON.stringify(item));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-fc-request-id')).toBeTruthy();
    expect(await response.json()).toMatchObject({ ...item, Success: true, Code: 'OK', Script: { Status: 'DRAFTED' } });
    expect(stack.emulator.script(item.InstanceId, item.ScriptId)?.Status).toBe('DRAFTED');
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });

  it('the demo data is seeded: a demo script under review can be withdrawn', async () => {
    const script = stack.demo!.scripts.find((s) => s.Status === 'PUBLISHED_AND_EXAMINE_IN_PROGRESS')!;
    const response = await postJson(JSON.stringify({ InstanceId: stack.demo!.instanceId, ScriptId: script.ScriptId }));
    expect(await response.json()).toMatchObject({ Success: true, Script: { Status: 'PUBLISHED' } });
  });

  it('GET is refused with 405 and withdraws nothing', async () => {
    const item = scriptUnderReview(stack.emulator);
    const response = await fetch(`${url}/?InstanceId=${item.InstanceId}&ScriptId=${item.ScriptId}`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
  });

  it('a 70 KB body is refused with 413 and withdraws nothing', async () => {
    const item = scriptUnderReview(stack.emulator);
    const response = await postJson(JSON.stringify({ ...item, Padding: 'x'.repeat(70 * 1024) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ Code: 'PayloadTooLarge', Success: false });
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
  });

  it('a handler that throws is a 502 FunctionUnhandledError', async () => {
    const withdraw = stack.functions.get('withdraw')!;
    fakeFunction('withdraw', async () => {
      throw new Error('handler exploded');
    });
    try {
      const response = await postJson('{}');
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ Code: 'FunctionUnhandledError', Message: 'handler exploded' });
    } finally {
      stack.functions.set('withdraw', withdraw);
    }
  });
});

describe('invoke path POST /2023-03-30/functions/{name}/invocations', () => {
  it('fc2, sync: 200 and the JSON result; the script is withdrawn', async () => {
    const item = scriptUnderReview(stack.emulator);
    const { headers, data } = await fc2().post('/functions/withdraw/invocations', JSON.stringify(item), { 'x-fc-invocation-type': 'Sync' });
    expect(headers['x-fc-request-id']).toBeTruthy();
    expect(headers['x-fc-error-type']).toBeUndefined();
    expect(data).toMatchObject({ ...item, Success: true, Script: { Status: 'DRAFTED' } });
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });

  it('answers to the deployed function name too', async () => {
    const item = scriptUnderReview(stack.emulator);
    const { data } = await fc2().post('/functions/withdraw-script-review-withdraw/invocations', JSON.stringify(item), {});
    expect(data).toMatchObject({ Success: true });
  });

  it('the function sees the role credentials and its own name, timeout and request id', async () => {
    const calls = fakeFunction('context-probe', async () => ({ ok: true }));
    const response = await signedInvoke('context-probe', '{"hello":1}');
    expect(response.status).toBe(200);
    const [call] = calls;
    expect(call?.event).toBe('{"hello":1}');
    expect(call?.context).toMatchObject({ requestId: response.headers.get('x-fc-request-id'), function: { name: 'context-probe', timeout: 5 }, accountId: LOCAL_ACCOUNT_ID });
    expect(call?.context.credentials?.accessKeyId).toMatch(/^STS\./);
    expect(call?.context.credentials?.securityToken).toBeTruthy();
  });

  it('async: 202 at once, before the function has finished', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = false;
    const calls = fakeFunction('gated', async () => {
      await gate;
      finished = true;
      return null;
    });
    const response = await signedInvoke('gated', '{}', { async: true });
    expect(response.status).toBe(202);
    expect(response.text).toBe('');
    expect(finished).toBe(false);
    release();
    await stack.frontend.drain();
    expect(finished).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('async withdraw: 202, and after the queue drains the script is withdrawn exactly once', async () => {
    const item = scriptUnderReview(stack.emulator);
    const response = await signedInvoke('withdraw', JSON.stringify(item), { async: true });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-fc-request-id')).toBeTruthy();
    await stack.frontend.drain();
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    expect(stack.emulator.script(item.InstanceId, item.ScriptId)?.Status).toBe('DRAFTED');
  });

  it('a wrong secret is refused with 403 SignatureNotMatch and nothing is invoked', async () => {
    const calls = fakeFunction('must-not-run', async () => null);
    const item = scriptUnderReview(stack.emulator);
    const requestsBefore = stack.emulator.requests.length;
    const wrongSecret = { accessKeyId: LOCAL_FC_KEY.accessKeyId, accessKeySecret: 'not-the-local-secret' };
    for (const name of ['must-not-run', 'withdraw']) {
      const response = await signedInvoke(name, JSON.stringify(item), { key: wrongSecret });
      expect(response.status).toBe(403);
      expect(response.json()).toMatchObject({ Code: 'SignatureNotMatch' });
    }
    await expect(fc2(wrongSecret).post('/functions/withdraw/invocations', JSON.stringify(item), {})).rejects.toThrow(/failed with 403/);
    expect(calls).toHaveLength(0);
    expect(stack.emulator.requests.length).toBe(requestsBefore);
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
  });

  it('a body changed after signing is refused (403 InvalidContentMD5)', async () => {
    const calls = fakeFunction('tampered', async () => null);
    const response = await signedInvoke('tampered', '{"ScriptId":"a"}', {
      tamper: (headers) => {
        headers['content-md5'] = Buffer.from(createHash('md5').update('{"ScriptId":"b"}').digest('hex')).toString('base64');
      },
    });
    expect(response.status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it('an unknown key is 403 InvalidAccessKeyId; no signature at all is 401', async () => {
    const unknown = await signedInvoke('withdraw', '{}', { key: { accessKeyId: 'LTAI5tNobody', accessKeySecret: LOCAL_FC_KEY.accessKeySecret } });
    expect(unknown.status).toBe(403);
    expect(unknown.json()).toMatchObject({ Code: 'InvalidAccessKeyId' });
    const unsigned = await signedInvoke('withdraw', '{}', { tamper: (headers) => delete headers.authorization });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json()).toMatchObject({ Code: 'MissingAuthorization' });
  });

  it('an unknown function is 404 FunctionNotFound', async () => {
    const response = await signedInvoke('no-such-function', '{}');
    expect(response.status).toBe(404);
    expect(response.headers.get('x-fc-request-id')).toBeTruthy();
    expect(response.json()).toMatchObject({ Code: 'FunctionNotFound' });
    await expect(fc2().post('/functions/no-such-function/invocations', '{}', {})).rejects.toThrow(/failed with 404/);
  });

  it('a handler that throws on the sync path: 200 with x-fc-error-type and the error', async () => {
    fakeFunction('boom', async () => {
      throw new TypeError('cannot read the payload');
    });
    const { headers, data } = await fc2().post('/functions/boom/invocations', '{}', {});
    expect(headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(data).toEqual({ errorMessage: 'cannot read the payload', errorType: 'TypeError' });
  });

  it('async: a throwing handler is retried under the same request id until it succeeds', async () => {
    const calls = fakeFunction('flaky', async (call) => {
      if (call < 3) throw new Error(`failure ${call}`);
      return { ok: true };
    });
    const response = await signedInvoke('flaky', '{"n":1}', { async: true });
    expect(response.status).toBe(202);
    await stack.frontend.drain();
    const requestId = response.headers.get('x-fc-request-id');
    expect(calls.map((c) => c.context.requestId)).toEqual([requestId, requestId, requestId]);
    expect(calls.every((c) => c.event === '{"n":1}')).toBe(true);
    const warnings = frontendLog.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.requestId === requestId);
    expect(warnings.map((l) => l.attempt)).toEqual([1, 2]);
  });

  it('async: a handler that keeps throwing gets 1 + asyncRetries attempts, then is dropped when it names no on-failure destination', async () => {
    const calls = fakeFunction('hopeless', async () => {
      throw new Error('always');
    });
    const response = await signedInvoke('hopeless', '{}', { async: true });
    await stack.frontend.drain();
    const requestId = response.headers.get('x-fc-request-id');
    expect(calls).toHaveLength(3);
    const lines = frontendLog.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.requestId === requestId);
    expect(lines.at(-1)).toMatchObject({ level: 'error', message: 'async invocation dropped: no on-failure destination', function: 'hopeless' });
  });
});

describe('cleanup under the local stack', () => {
  it('fan-out mode async-invokes the local withdraw function with the role key, and the stale reviews are withdrawn once', async () => {
    const instanceId = `fanout-${Date.now()}`;
    const old = Date.now() - 3 * 24 * 3_600_000;
    const stale = ['stale-1', 'stale-2', 'stale-3'];
    stack.emulator.addInstance(instanceId, [...stale.map((id) => script(id, 'EXAMINE_IN_PROGRESS', old)), script('fresh-1', 'EXAMINE_IN_PROGRESS', Date.now())]);
    process.env.CLEANUP_MODE = 'fanout';
    const { data } = await fc2().post('/functions/cleanup/invocations', JSON.stringify({ InstanceId: instanceId, OlderThanMinutes: 60 }), {});
    expect(data).toMatchObject({ Success: true, Selected: 3, Dispatched: 3 });
    await stack.frontend.drain();
    for (const id of stale) expect(stack.emulator.withdrawals(instanceId, id)).toBe(1);
    expect(stack.emulator.withdrawals(instanceId, 'fresh-1')).toBe(0);
  });
});
