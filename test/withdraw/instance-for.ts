import { randomUUID } from 'node:crypto';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { systemClock } from '../../lib/core/clock';
import type { InstanceStateOptions } from '../../lib/runtime/instance-state';
import { createWithdrawService } from '../../lib/withdraw/service';
import { contextFor, type RoleCredentials } from '../support/stack';

/**
 * The withdraw function's instance as createWithdrawService builds it, pointed at the
 * emulator, its log captured: for the path modules, called without the handler around them.
 */
export function instanceFor(emulator: OutboundBotEmulator, role: RoleCredentials, env: Record<string, string> = {}, options: Partial<InstanceStateOptions> = {}) {
  const lines: string[] = [];
  const service = createWithdrawService({
    env: { OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', ...env },
    clock: systemClock,
    write: (line) => lines.push(line),
    ...options,
  });
  return {
    instance: service.instance,
    /** A new invocation's scope: its own requestId unless one is given (an FC async retry keeps it). */
    scope: (requestId: string = randomUUID(), timeoutSeconds = 30, credentials: Partial<RoleCredentials> = role) =>
      service.openScope(contextFor(credentials, timeoutSeconds, requestId)),
    lines,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
