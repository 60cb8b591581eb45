// The per-script lock as a withdrawal holds it (lib/withdraw/exclusive.ts over lib/idempotency).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { systemClock } from '../../lib/core/clock';
import { createMemoryStore } from '../../lib/idempotency/memory-store';
import { createOutboundBotClient } from '../../lib/outboundbot/client';
import { withdrawTracked, type WithdrawDeps } from '../../lib/withdraw/withdraw-item';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';

let emulator: OutboundBotEmulator;
let role: RoleCredentials;
beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
  emulator.addInstance('lock-instance', [script('s1'), script('s2')]);
});
afterAll(() => emulator.close());

function depsWith(store: ReturnType<typeof createMemoryStore>, holdUntilMs: number): WithdrawDeps {
  return {
    client: createOutboundBotClient(role, { endpoint: emulator.endpoint, protocol: 'http', connectTimeoutMs: 500 }),
    clock: systemClock,
    policy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 50 },
    readTimeoutMs: 400,
    workEndMs: Date.now() + 60_000,
    exclusive: { store, holdUntilMs, waitUntilMs: Date.now() + 1_000, markTtlMs: 60_000 },
  };
}

describe('the lock a withdrawal holds', () => {
  it('lapses when the withdrawal cannot be running any more, not at a far deadline', async () => {
    const store = createMemoryStore(systemClock);
    emulator.setLatency(150);
    try {
      const startMs = Date.now();
      const running = withdrawTracked({ InstanceId: 'lock-instance', ScriptId: 's1' }, depsWith(store, startMs + 600_000));
      await systemClock.sleep(50);
      const held = (await store.read('lock:lock-instance/s1')) as { expiresAtMs: number } | undefined;
      // 2 attempts × (400 ms + 50 ms) + 400 ms for the reconciling read.
      expect(held?.expiresAtMs).toBeGreaterThan(startMs);
      expect(held!.expiresAtMs).toBeLessThanOrEqual(startMs + 1_300 + 60);
      await expect(running).resolves.toMatchObject({ result: { Success: true } });
      expect(await store.read('lock:lock-instance/s1')).toBeUndefined();
    } finally {
      emulator.setLatency(0);
    }
  });

  it('tells a request waiting on the same script the holder outcome, with no call of its own', async () => {
    const store = createMemoryStore(systemClock);
    emulator.setLatency(150);
    try {
      const item = { InstanceId: 'lock-instance', ScriptId: 's2' };
      const [holder, waiter] = await Promise.all([withdrawTracked(item, depsWith(store, Date.now() + 10_000)), withdrawTracked(item, depsWith(store, Date.now() + 10_000))]);
      expect([holder.result, waiter.result].map((r) => [r.Success, r.Attempts]).sort()).toEqual([
        [true, 0],
        [true, 1],
      ]);
      expect(emulator.withdrawals('lock-instance', 's2')).toBe(1);
    } finally {
      emulator.setLatency(0);
    }
  });

  it('lets the waiter withdraw itself when the holder ended without a definite outcome', async () => {
    const store = createMemoryStore(systemClock);
    emulator.addInstance('lock-retry', [script('s3')]);
    emulator.setLatency(100);
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 2 });
    try {
      const item = { InstanceId: 'lock-retry', ScriptId: 's3' };
      const first = withdrawTracked(item, depsWith(store, Date.now() + 10_000));
      await systemClock.sleep(20);
      const second = withdrawTracked(item, depsWith(store, Date.now() + 10_000));
      expect((await first).result).toMatchObject({ Success: false, Retryable: true, Attempts: 2 });
      expect((await second).result).toMatchObject({ Success: true, Attempts: 1 });
    } finally {
      emulator.setLatency(0);
    }
  });
});
