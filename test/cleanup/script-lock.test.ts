// The cleanup's inline withdrawals hold the per-script lock the withdraw function holds
// (docs/DESIGN.md, "Exactly once"): a webhook and the nightly cleanup for the same script at
// once make one WithdrawScriptReview call, not two. Both services in this process, sharing a real
// redis-server as IDEMPOTENCY_REDIS_URL (two FC instances share it the same way); OutboundBot is
// the emulator over real HTTP. Without redis-server the tests skip and say so.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorScript, OutboundBotEmulator } from '../../emulator/outboundbot';
import { createCleanupService } from '../../lib/cleanup/service';
import type { CleanupResult } from '../../lib/cleanup/summary';
import { systemClock } from '../../lib/core/clock';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';
import { httpEvent } from '../support/events';
import { freePort, redisAvailable, startRedis, type RedisServer } from '../support/redis-server';
import { contextFor, serviceFor, startTestEmulator, type RoleCredentials } from '../support/stack';

const SKIPPED = redisAvailable ? '' : ' (skipped: redis-server is not installed)';
/** Long enough that the other function reaches the same script while the first call is in flight. */
const SLOW_WITHDRAWAL_MS = 1_500;

let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let redis: RedisServer | undefined;

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
  if (redisAvailable) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await emulator?.close();
});

function staleScriptInstance(): { instanceId: string; script: EmulatorScript } {
  const script: EmulatorScript = { ScriptId: randomUUID(), ScriptName: 'stale review', Status: 'EXAMINE_IN_PROGRESS', UpdateTime: Date.now() - 600 * 60_000 };
  const instanceId = randomUUID();
  emulator.addInstance(instanceId, [script]);
  return { instanceId, script };
}

function inlineCleanup(env: Record<string, string>) {
  return createCleanupService({
    env: { OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', CLEANUP_MODE: 'inline', ...env },
    clock: systemClock,
    write: () => {},
  });
}

const webhook = (item: { InstanceId: string; ScriptId: string }) =>
  Buffer.from(JSON.stringify(httpEvent({ body: JSON.stringify(item), contentType: 'application/json', headers: { 'webhook-id': `msg_${randomUUID()}` } })));

const withdrawCalls = (instanceId: string, scriptId: string) =>
  emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.InstanceId === instanceId && r.query.ScriptId === scriptId);

/** The cleanup (inline) and a webhook to the withdraw function for the same script, started together. */
async function cleanupAndWebhookAtOnce(env: Record<string, string>) {
  const { instanceId, script } = staleScriptInstance();
  const item = { InstanceId: instanceId, ScriptId: script.ScriptId };
  // Both calls, whichever comes first, take SLOW_WITHDRAWAL_MS: the other arrives while it is in flight.
  emulator.injectFault({ kind: 'delay', ms: SLOW_WITHDRAWAL_MS }, { action: 'WithdrawScriptReview', times: 2 });
  const cleanup = inlineCleanup(env);
  const { service: withdraw } = serviceFor(emulator, env);
  const [summary, response] = await Promise.all([
    cleanup.handle({ InstanceId: instanceId, OlderThanMinutes: 60 }, contextFor(role, 60, `cleanup-${randomUUID()}`)) as Promise<CleanupResult>,
    withdraw.handle(webhook(item), contextFor(role, 30)) as Promise<FcHttpResponse>,
  ]);
  return { item, summary, response, webhookResult: JSON.parse(response.body) as Record<string, unknown> };
}

describe('the cleanup inline and the withdraw function share the per-script lock', () => {
  it.runIf(redisAvailable)(`a webhook and the cleanup for one script at once make exactly one WithdrawScriptReview call${SKIPPED}`, async () => {
    const { item, summary, response, webhookResult } = await cleanupAndWebhookAtOnce({ IDEMPOTENCY_REDIS_URL: redis!.url });

    expect(withdrawCalls(item.InstanceId, item.ScriptId)).toHaveLength(1);
    expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    // Both report the one withdrawal as done; the one that waited made no attempt of its own.
    expect(response.statusCode).toBe(200);
    expect(webhookResult).toMatchObject({ Success: true, ScriptId: item.ScriptId });
    expect(summary).toMatchObject({ Success: true, Mode: 'inline', Selected: 1, Withdrawn: 1, Failed: 0 });
    const cleanupResult = summary.Results![0]!;
    expect(cleanupResult).toMatchObject({ Success: true, ScriptId: item.ScriptId });
    expect([cleanupResult.Attempts, webhookResult.Attempts].sort()).toEqual([0, 1]);
  });

  it('the check bites: without a shared store each instance locks alone, the calls overlap, and both are made', async () => {
    // No IDEMPOTENCY_REDIS_URL: each service keeps its own memory, as two FC instances would.
    const { item, summary, webhookResult } = await cleanupAndWebhookAtOnce({});

    expect(withdrawCalls(item.InstanceId, item.ScriptId)).toHaveLength(2);
    expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    // One of them is told the script is no longer under review.
    const outcomes = [summary.Results![0]!.Success, webhookResult.Success];
    expect(outcomes.sort()).toEqual([false, true]);
  });

  it('a store that does not answer withdraws nothing: each item is a retryable IdempotencyStoreUnavailable, and the run is not thrown', async () => {
    const { instanceId, script } = staleScriptInstance();
    const nobody = `redis://127.0.0.1:${await freePort()}/0`;
    const cleanup = inlineCleanup({ IDEMPOTENCY_REDIS_URL: nobody, IDEMPOTENCY_TIMEOUT_MS: '200' });
    const summary = (await cleanup.handle({ InstanceId: instanceId, OlderThanMinutes: 60 }, contextFor(role, 60))) as CleanupResult;
    expect(summary).toMatchObject({ Success: false, Selected: 1, Withdrawn: 0, Failed: 1 });
    expect(summary.Results).toEqual([expect.objectContaining({ ScriptId: script.ScriptId, Success: false, HttpStatusCode: 503, Code: 'IdempotencyStoreUnavailable', Attempts: 0, Retryable: true })]);
    expect(withdrawCalls(instanceId, script.ScriptId)).toHaveLength(0);
  });
});
