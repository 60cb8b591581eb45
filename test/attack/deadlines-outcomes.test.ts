// Attacks on truthful outcomes and the deadline: hanging and dripping upstreams, the cleanup's budget, oversized event shapes.
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cloudEvent } from '../support/events';
import { script } from '../support/stack';
import { ALLOWED, calls, ctx, fresh, httpAnswer, instance, signed, useWorld } from './helpers';

const world = useWorld();
const servers = world.servers;

describe('the deadline', () => {
  for (const fault of [{ kind: 'hang' }, { kind: 'drip', intervalMs: 100 }, { kind: 'stall' }] as const) {
    it(`a 40-item batch against an upstream that plays ${fault.kind}, with a silent callback receiver: answered inside 2 s, truthful 504s`, async () => {
      const silent = http.createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      servers.push(silent);
      const port = (silent.address() as net.AddressInfo).port;
      const w = await instance(world, { CALLBACK_URL: `http://127.0.0.1:${port}/`, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_TIMEOUT_MS: '5000', RETRY_MAX_ATTEMPTS: '4' });
      const ids = fresh(world, 40);
      world.emulator.injectFault(fault, { action: 'WithdrawScriptReview', times: 40 });
      const started = Date.now();
      const a = httpAnswer(await w.invoke(signed(JSON.stringify({ Items: ids.map((ScriptId) => ({ InstanceId: ALLOWED, ScriptId })) })), ctx(world, 2)));
      const elapsed = Date.now() - started;
      world.emulator.reset();
      expect(elapsed).toBeLessThan(2_000);
      // An item whose withdrawal was performed (drip/stall perform it) may be reported 504 or reconciled, never a plain refusal.
      for (const r of a.body.Results) expect(r.Success || r.Retryable).toBe(true);
    }, 20_000);
  }

  it('the cleanup over an instance whose listing hangs, timeout 2 s: summary inside 2 s, not Success', async () => {
    const c = await instance(world, {}, 'cleanup');
    const ids = Array.from({ length: 30 }, () => randomUUID());
    world.emulator.addInstance(ALLOWED, ids.map((id) => script(id, 'EXAMINE_IN_PROGRESS', Date.now() - 10 * 86_400_000)));
    world.emulator.setLatency(700);
    const started = Date.now();
    const a = await c.invoke({ InstanceId: ALLOWED, OlderThanMinutes: 60 }, { ...ctx(world, 2), function: { name: 'cleanup', timeout: 2 } });
    const elapsed = Date.now() - started;
    world.emulator.setLatency(0);
    const v = a.value as Record<string, unknown>;
    expect(elapsed).toBeLessThan(2_000);
    expect(v.Success === false || v.Truncated === true || v.Withdrawn === 30).toBe(true);
  }, 20_000);
});

describe('outcome shapes', () => {
  it('an oversized (>1 MiB) EventBridge event whose data merely mentions "rawPath" and "requestContext" is answered as an event, not as an HTTP response', async () => {
    const w = await instance(world);
    // A custom-bus CloudEvent whose data object carries keys of those names (e.g. a forwarded request log).
    const ev = cloudEvent({ InstanceId: ALLOWED, ScriptId: 'x', meta: { rawPath: '/', requestContext: {} }, pad: 'a'.repeat(1024 * 1024) }, { id: randomUUID(), source: 'custom' });
    const a = await w.invoke(Buffer.from(JSON.stringify(ev)), ctx(world));
    expect(a.value).not.toHaveProperty('statusCode');
    expect(a.value).toMatchObject({ Code: 'PayloadTooLarge' });
  });

  it('a single CloudEvent whose data is JSON text of a batch ({"Items": [...]}) withdraws nothing it did not name as one item', async () => {
    const w = await instance(world);
    const [s1, s2] = fresh(world, 2);
    const a = await w.invoke(cloudEvent(JSON.stringify({ Items: [{ InstanceId: ALLOWED, ScriptId: s1 }, { InstanceId: ALLOWED, ScriptId: s2 }] }), { id: randomUUID(), source: 'x' }), ctx(world));
    expect(a.value).toMatchObject({ Code: 'InvalidParameter' });
    expect(calls(world, [s1!, s2!])).toBe(0);
  });
});
