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
    deadlineMs: Date.now() + 60_000,
    exclusive: { store, holdUntilMs, waitUntilMs: Date.now() + 1_000 },
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
      // Let go: free for the next claim, with the outcome for whoever waited.
      expect(await store.read('lock:lock-instance/s1')).toMatchObject({ reclaimable: true, outcome: { Success: true } });
    } finally {
      emulator.setLatency(0);
    }
  });

  it('publishes a definite outcome to waiters and none for a retryable one', async () => {
    const store = createMemoryStore(systemClock);
    await withdrawTracked({ InstanceId: 'lock-instance', ScriptId: 's2' }, depsWith(store, Date.now() + 10_000));
    expect(await store.read('lock:lock-instance/s2')).toMatchObject({ outcome: { Success: true, ScriptId: 's2' } });
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 2 });
    await withdrawTracked({ InstanceId: 'lock-instance', ScriptId: 'missing' }, depsWith(store, Date.now() + 10_000));
    expect(await store.read('lock:lock-instance/missing')).toBeUndefined();
  });
});
