// A fan-out dispatch is held to the run's deadline (issue #24.5): fc2's timeout bounds connect
// and each read, so an FC endpoint that answers a byte at a time is never timed out by it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAsyncInvoker, dispatchChunk } from '../../lib/cleanup/fanout';
import { systemClock } from '../../lib/core/clock';

let server: http.Server;
let endpoint: string;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  // Answers its headers at once, then one body byte every 100 ms, forever.
  server = http.createServer((req, res) => {
    req.resume();
    const socket = res.socket!;
    socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 100000\r\n\r\n');
    const timer = setInterval(() => socket.write('a'), 100);
    timers.add(timer);
    socket.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('an FC endpoint that drips its answer: the dispatch ends at the deadline, its items named as unconfirmed (FC may have queued them)', async () => {
  const invoker = createAsyncInvoker({ accountId: '1111', region: 'cn-shanghai', endpoint, credentials: { accessKeyId: 'key', accessKeySecret: 'secret' } });
  const items = [{ InstanceId: 'instance-1', ScriptId: 'script-1' }];
  const startMs = Date.now();
  const result = await dispatchChunk({ index: 0, taskId: 'cleanup-run-1-0-test', items }, { invoker, functionName: 'w', clock: systemClock, policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5 }, workEndMs: startMs + 800 });
  expect(Date.now() - startMs).toBeLessThan(900);
  expect(result).toMatchObject({ Success: false, Code: 'DispatchUnconfirmed', Unconfirmed: items });
  expect(result).not.toHaveProperty('NotDispatched');
}, 10_000);

it('a transport that outlives its own timeout (fc2 bounds connect and read apart) is cut at the deadline all the same', async () => {
  // What fc2 would be if a slow connect and a slow read each took their whole timeout: an answer that never comes in time.
  const invoker = { invokeAsync: () => new Promise<string | undefined>(() => undefined) };
  const items = [{ InstanceId: 'instance-1', ScriptId: 'script-1' }];
  const startMs = Date.now();
  const result = await dispatchChunk({ index: 0, taskId: 'cleanup-run-1-0-test', items }, { invoker, functionName: 'w', clock: systemClock, policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, workEndMs: startMs + 300 });
  expect(Date.now() - startMs).toBeLessThan(600);
  expect(result).toMatchObject({ Success: false, Code: 'DispatchUnconfirmed', Unconfirmed: items });
  expect(result.Message).toContain('DeadlineExceeded');
});
