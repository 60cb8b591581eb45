// Adversary (issue #24): the fan-out's dispatch to FC, against the built bundles and the local FC
// front end behind a TCP proxy (test/support/store-link.ts is protocol-blind): a lost answer, a
// slow endpoint, and secrets in what FC or OutboundBot echo back. Promises: the outcome reported is
// what happened, the run answers before its deadline, and no key, token or secret is in the answer or a log line.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupResult } from '../../lib/cleanup/summary';
import { startFanoutStack, timerEvent, WITHDRAW_FUNCTION, type FanoutStack } from '../support/fanout-stack';
import { storeLink, type StoreLink } from '../support/store-link';
import { contextFor } from '../support/stack';

let stack: FanoutStack;
const links: StoreLink[] = [];

beforeAll(async () => {
  stack = await startFanoutStack();
}, 60_000);
afterAll(async () => {
  for (const link of links) await link.close();
  await stack?.close();
});

/** A fresh cleanup instance and a TCP proxy to the FC front end that it dispatches through. */
async function proxiedCleanup(latencyMs = 0): Promise<{ link: StoreLink; cleanup: FanoutStack['cleanup']; endpoint: string }> {
  const link = await storeLink(stack.frontend.port, '', latencyMs);
  links.push(link);
  return { link, cleanup: stack.anotherCleanup(), endpoint: `http://127.0.0.1:${new URL(link.url).port}` };
}

/** Runs `cleanup` once, FC_ENDPOINT the proxy while it reads its variables (on its first invocation). */
async function invokeThrough({ cleanup, endpoint }: { cleanup: FanoutStack['cleanup']; endpoint: string }, instanceId: string, timeoutS = 60): Promise<CleanupResult> {
  const saved = process.env.FC_ENDPOINT;
  process.env.FC_ENDPOINT = endpoint;
  try {
    return (await cleanup(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, timeoutS, `adv24-dispatch-${randomUUID()}`))) as CleanupResult;
  } finally {
    process.env.FC_ENDPOINT = saved;
  }
}

const queued = () => stack.frontend.counts(WITHDRAW_FUNCTION).async;

describe('adversary: the fan-out dispatch', () => {
  it('HELD: FC queues a chunk and its answer is lost: the retried dispatch is refused (409) and counted AlreadyDispatched, queued once', async () => {
    const { instanceId, stale } = stack.staleInstance(2, []);
    const proxied = await proxiedCleanup();
    proxied.link.cutOn('x-fc-async-task-id', 0);
    const before = queued();
    const result = await invokeThrough(proxied, instanceId);
    await stack.frontend.drain();
    expect(result).toMatchObject({ Success: true, Dispatched: 2, AlreadyDispatched: 2, Failed: 0 });
    expect(queued() - before).toBe(1);
    for (const s of stale) expect(stack.emulator.withdrawals(instanceId, s.ScriptId)).toBe(1);
  });

  it('FIXED: FC queues a chunk, its answer is lost and FC cannot be reached for 300 ms: the chunk is reported unconfirmed, not NotDispatched/Failed', async () => {
    const { instanceId, stale } = stack.staleInstance(2, []);
    const proxied = await proxiedCleanup();
    proxied.link.cutOn('x-fc-async-task-id', 300);
    const before = queued();
    const result = await invokeThrough(proxied, instanceId);
    await stack.frontend.drain();
    // FC did queue it, and the withdraw function withdrew both.
    expect(queued() - before).toBe(1);
    for (const s of stale) expect(stack.emulator.withdrawals(instanceId, s.ScriptId)).toBe(1);
    const chunk = result.Chunks![0]!;
    expect({ Failed: result.Failed, Code: chunk.Code, NotDispatched: chunk.NotDispatched }, 'a chunk FC holds, reported as not dispatched').toEqual({ Failed: 0, Code: 'DispatchUnconfirmed', NotDispatched: undefined });
    expect(result).toMatchObject({ Success: false, Unconfirmed: 2 });
    expect(chunk.Unconfirmed!.map((i) => i.ScriptId).sort()).toEqual(stale.map((s) => s.ScriptId).sort());
  });

  it('HELD: an FC endpoint 2.5 s away each way, a 4 s function: the run answers before its timeout, the items named (Remaining or Unconfirmed)', async () => {
    const { instanceId, stale } = stack.staleInstance(4, []);
    const startMs = Date.now();
    const before = queued();
    const result = await invokeThrough(await proxiedCleanup(2_500), instanceId, 4);
    expect(Date.now() - startMs).toBeLessThan(4_000);
    expect(result).toMatchObject({ Success: false, Dispatched: 0 });
    const named = [...result.Remaining, ...(result.Chunks ?? []).flatMap((c) => c.Unconfirmed ?? [])].map((i) => i.ScriptId);
    expect((result.Chunks ?? []).flatMap((c) => c.NotDispatched ?? []), 'sent, so not reported as never queued').toEqual([]);
    expect(named.sort()).toEqual(stale.map((s) => s.ScriptId).sort());
    // The requests reach FC after the cut all the same and are queued: hence Unconfirmed.
    await new Promise((r) => setTimeout(r, 2_000));
    await stack.frontend.drain();
    expect(queued() - before).toBeLessThanOrEqual((result.Chunks ?? []).length);
  }, 20_000);

  it('HELD: OutboundBot echoes the Authorization header and STS token in a listing error: neither reaches the answer or a log line', async () => {
    const { instanceId } = stack.staleInstance(1, []);
    stack.emulator.injectFault({ kind: 'echo-secrets', status: 400 }, { action: 'QueryScriptsByStatus' });
    const result = await stack.anotherCleanup()(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, 60, `adv24-echo-${randomUUID()}`));
    const seen = JSON.stringify(result) + stack.stdoutLines.join('\n');
    expect(seen).not.toContain(stack.role.securityToken);
    expect(seen).not.toContain(stack.role.accessKeySecret);
    expect(seen).not.toMatch(/Signature=[0-9a-f]{16}/);
  });

  it('HELD: FC refuses the signature (403): the chunk fails, its items named, and the STS token and secret stay out of the answer and logs', async () => {
    const { instanceId, stale } = stack.staleInstance(2, []);
    const key = stack.keys.get(stack.role.accessKeyId)!;
    stack.keys.set(stack.role.accessKeyId, { ...key, accessKeySecret: 'not-the-role-secret' });
    let result: CleanupResult;
    try {
      result = (await stack.anotherCleanup()(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, 60, `adv24-403-${randomUUID()}`))) as CleanupResult;
    } finally {
      stack.keys.set(stack.role.accessKeyId, key);
    }
    expect(result).toMatchObject({ Success: false, Failed: 2, Dispatched: 0 });
    expect(result.Chunks![0]!.NotDispatched!.map((i) => i.ScriptId).sort()).toEqual(stale.map((s) => s.ScriptId).sort());
    const seen = JSON.stringify(result) + stack.stdoutLines.join('\n') + stack.frontendLog.join('\n');
    expect(seen).not.toContain(stack.role.securityToken);
    expect(seen).not.toContain(stack.role.accessKeySecret);
  });
});
