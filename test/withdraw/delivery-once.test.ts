// One delivery, done once (lib/withdraw/delivery-once.ts), through the handler as FC calls it.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RetryableFailureError } from '../../lib/withdraw/event-path';
import { contextFor, serviceFor, useTestEmulator } from '../support/stack';

const INSTANCE = 'inst-delivery-once';
const env = useTestEmulator(INSTANCE, 1);
const event = (ScriptId: string) => Buffer.from(JSON.stringify({ InstanceId: INSTANCE, ScriptId }));

describe('a delivery whose work ran to its deadline', () => {
  it('keeps what its retry needs to know: the redelivery reconciles the attempt that acted', async () => {
    const { service } = serviceFor(env.emulator, { OUTBOUNDBOT_READ_TIMEOUT_MS: '5000' });
    const [id] = env.ids as [string];
    // No callback: the work runs to the deadline itself, and the record is written after it.
    env.emulator.injectFault({ kind: 'delay', ms: 2_000 }, { action: 'WithdrawScriptReview' });
    const requestId = randomUUID();
    await expect(service.handle(event(id), contextFor(env.role, 1, requestId))).rejects.toBeInstanceOf(RetryableFailureError);
    const redelivered = await service.handle(event(id), contextFor(env.role, 10, requestId));
    expect(redelivered).toMatchObject({ Success: true, Reconciled: true, Code: 'OK' });
    expect(env.emulator.withdrawals(INSTANCE, id)).toBe(1);
  });
});
