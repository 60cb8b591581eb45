import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type EmulatorScript, type OutboundBotEmulator } from '../../emulator/outboundbot';
import type { Clock } from '../../lib/core/clock';
import { systemClock } from '../../lib/core/clock';
import { createOutboundBotClient, type OutboundBotClient } from '../../lib/outboundbot/client';
import type { FcContext } from '../../lib/fc/context';
import type { InstanceStateOptions } from '../../lib/runtime/instance-state';
import { createWithdrawHandler } from '../../lib/withdraw/service';

export interface RoleCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

/** A fresh STS triple, as FC hands the function's role to each invocation. */
export function newRole(): RoleCredentials {
  return {
    accessKeyId: `STS.NT${randomBytes(8).toString('hex')}`,
    accessKeySecret: randomBytes(24).toString('base64'),
    securityToken: `CAIS${randomBytes(40).toString('base64')}`,
  };
}

export function script(ScriptId: string, Status = 'EXAMINE_IN_PROGRESS', UpdateTime = Date.now() - 3_600_000): EmulatorScript {
  return { ScriptId, ScriptName: `script ${ScriptId}`, Status, UpdateTime };
}

export async function startTestEmulator(): Promise<{ emulator: OutboundBotEmulator; role: RoleCredentials }> {
  const emulator = await startEmulator();
  const role = newRole();
  emulator.addCredential(role);
  return { emulator, role };
}

/** The withdraw function's handler as functions/withdraw builds it (middy included), pointed at the emulator, its log captured. */
export function serviceFor(
  emulator: OutboundBotEmulator,
  env: Record<string, string> = {},
  options: Partial<InstanceStateOptions> & { clock?: Clock } = {},
) {
  const lines: string[] = [];
  const handle = createWithdrawHandler({
    env: { OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http', ALLOW_UNSIGNED_HTTP: 'true', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', ...env },
    clock: options.clock ?? systemClock,
    write: (line) => lines.push(line),
    ...options,
  });
  const service = { handle };
  return { service, lines, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export function contextFor(role: Partial<RoleCredentials> | undefined, timeoutSeconds = 30, requestId: string = randomUUID()): FcContext {
  return { requestId, credentials: role ?? {}, function: { name: 'withdraw', timeout: timeoutSeconds }, region: 'cn-shanghai', accountId: '1234567890123456' };
}

/**
 * One emulator for a test file, reset before each test with scripts under review in `instanceId`
 * (`scripts` fresh UUIDs, or these ids; their ids in `ids`), a client signing as its role, closed
 * after the file.
 */
export function useTestEmulator(instanceId: string, scripts: number | string[] = 2): TestEmulator {
  const env = {} as TestEmulator;
  beforeAll(async () => {
    Object.assign(env, await startTestEmulator());
    env.client = createOutboundBotClient(env.role, { endpoint: env.emulator.endpoint, protocol: 'http', connectTimeoutMs: 1_000 });
  });
  afterAll(() => env.emulator.close());
  beforeEach(() => {
    env.emulator.reset();
    env.ids = typeof scripts === 'number' ? Array.from({ length: scripts }, () => randomUUID()) : [...scripts];
    env.emulator.addInstance(instanceId, env.ids.map((id) => script(id)));
  });
  return env;
}

export interface TestEmulator {
  emulator: OutboundBotEmulator;
  role: RoleCredentials;
  ids: string[];
  client: OutboundBotClient;
}
