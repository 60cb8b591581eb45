// Shared helpers for the adversarial suite: built bundles in child processes, one emulator.
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { signWebhook } from '../../lib/webhooks/verify';
import { httpEvent } from '../support/events';
import { startInstance, type Instance, type InstanceAnswer } from '../support/instances';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';
import { buildScript } from '../support/local-stack';

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
export const ALLOWED = 'atk-allowed';
export const FOREIGN = 'atk-foreign';

export interface World {
  emulator: OutboundBotEmulator;
  role: RoleCredentials;
  started: Instance[];
  /** Servers a test started (callback receivers, proxies): closed with the world. */
  servers: net.Server[];
}

/**
 * One world for a test file: the bundles built from the current sources, the emulator, and
 * every instance and server the file starts, all stopped after it. `when` false (no
 * redis-server, say) skips the set-up for a file whose tests are skipped too.
 */
export function useWorld(when = true): World {
  const world = { started: [], servers: [] } as unknown as World;
  beforeAll(async () => {
    if (!when) return;
    await (await buildScript()).buildFunctions();
    Object.assign(world, await startTestEmulator());
  }, 60_000);
  afterAll(async () => {
    for (const started of world.started) started.kill();
    for (const server of world.servers) {
      (server as http.Server).closeAllConnections?.();
      server.close();
    }
    await world.emulator?.close();
  });
  return world;
}

export function baseEnv(world: World): Record<string, string> {
  return {
    OUTBOUNDBOT_ENDPOINT: world.emulator.endpoint,
    OUTBOUNDBOT_PROTOCOL: 'http',
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    WEBHOOK_SECRET: SECRET,
    ALLOWED_INSTANCE_IDS: `other-allowed ${ALLOWED}`,
  };
}

export async function instance(world: World, env: Record<string, string> = {}, bundle: 'withdraw' | 'cleanup' = 'withdraw'): Promise<Instance> {
  const merged = { ...baseEnv(world), ...env };
  for (const [k, v] of Object.entries(merged)) if (v === '__unset__') delete merged[k];
  const started = await startInstance(merged, bundle);
  world.started.push(started);
  return started;
}

export const ctx = (world: World, timeoutSeconds = 10, requestId: string = randomUUID()) => ({
  requestId,
  credentials: world.role,
  function: { name: 'withdraw', timeout: timeoutSeconds },
});

const byInstance = new Map<string, string[]>();
/** Fresh scripts under review, added to (not replacing) what the instance already holds in this file. */
export function fresh(world: World, count: number, instanceId = ALLOWED): string[] {
  const ids = Array.from({ length: count }, () => randomUUID());
  const all = [...(byInstance.get(instanceId) ?? []), ...ids];
  byInstance.set(instanceId, all);
  world.emulator.addInstance(instanceId, all.map((id) => script(id)));
  return ids;
}

/** Adds scripts to an instance without replacing the instance's other scripts. */
export function freshIn(world: World, instanceId: string, count: number): string[] {
  return fresh(world, count, instanceId);
}

export const calls = (world: World, ids: readonly string[], action = 'WithdrawScriptReview') =>
  world.emulator.requests.filter((r) => r.action === action && ids.includes(r.query.ScriptId!)).length;

export function signedHeaders(body: string | Buffer, webhookId = `msg_${randomUUID()}`, ts = Math.floor(Date.now() / 1000), secret = SECRET) {
  return { 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, webhookId, ts, body) };
}

export function signed(body: string, opts: { query?: Record<string, string>; contentType?: string; webhookId?: string; headers?: Record<string, string> } = {}) {
  return httpEvent({ body, contentType: opts.contentType ?? 'application/json', headers: { ...signedHeaders(body, opts.webhookId), ...opts.headers }, query: opts.query });
}

export function httpAnswer(answer: InstanceAnswer) {
  if (answer.error) throw new Error(`expected an HTTP answer, got thrown ${JSON.stringify(answer.error)}`);
  const response = answer.value as { statusCode: number; headers: Record<string, string>; body: string };
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) as Record<string, any> };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
