/**
 * The cleanup service against one OutboundBot emulator over real HTTP, for the cleanup's
 * function-level tests: call {@link useCleanupStack} once at a test file's top level.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { EmulatorScript, OutboundBotEmulator } from '../../emulator/outboundbot';
import { createCleanupService } from '../../lib/cleanup/service';
import type { CleanupResult } from '../../lib/cleanup/summary';
import { systemClock } from '../../lib/core/clock';
import { contextFor, startTestEmulator, type RoleCredentials } from '../support/stack';

export const MINUTE_MS = 60_000;
export const ALL_STATES = [
  'DRAFTED',
  'PUBLISHED',
  'PUBLISH_IN_PROGRESS',
  'PUBLISH_FAILED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_FAILED',
  'IMPORT_IN_PROGRESS',
  'IMPORT_FAILED',
  'INITIALIZE_IN_PROGRESS',
  'EXAMINE_IN_PROGRESS',
  'PUBLISHED_AND_EXAMINE_IN_PROGRESS',
];
/** Written out rather than imported, so a change to lib's list shows here. */
export const REVIEW = new Set(['EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS']);

export function scriptAged(Status: string, ageMinutes: number, ScriptId: string = randomUUID()): EmulatorScript {
  return { ScriptId, ScriptName: `${Status} ${ageMinutes} min`, Status, UpdateTime: Date.now() - ageMinutes * MINUTE_MS };
}

export const timerEvent = (payload: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ triggerTime: '2026-11-24T19:00:00Z', triggerName: 'nightly', payload: JSON.stringify(payload) }));

type LogLine = Record<string, unknown>;

export function useCleanupStack() {
  let emulator: OutboundBotEmulator;
  let role: RoleCredentials;
  beforeAll(async () => {
    ({ emulator, role } = await startTestEmulator());
  });
  afterAll(() => emulator.close());
  afterEach(() => {
    // reset() forgets faults and requests but keeps configuration: undo that too.
    emulator.reset();
    emulator.setLatency(0);
    emulator.setDisabledActions([]);
  });

  /** The cleanup service pointed at the emulator, its log captured. */
  function cleanupFor(env: Record<string, string> = {}) {
    const lines: string[] = [];
    const service = createCleanupService({
      env: { OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', ...env },
      clock: systemClock,
      write: (line) => lines.push(line),
    });
    const logs = () => lines.map((l) => JSON.parse(l) as LogLine);
    return { service, lines, logs, summaryLine: () => logs().find((l) => String(l.message).startsWith('cleanup finished')) };
  }

  return {
    get emulator() {
      return emulator;
    },
    get role() {
      return role;
    },
    cleanupFor,
    /** An instance of its own per test, so tests never see each other's withdrawals. */
    instanceWith(scripts: EmulatorScript[]): string {
      const instanceId = randomUUID();
      emulator.addInstance(instanceId, scripts);
      return instanceId;
    },
    run: async (service: ReturnType<typeof cleanupFor>['service'], event: unknown, timeoutSeconds = 60) =>
      (await service.handle(event, contextFor(role, timeoutSeconds, `cleanup-${randomUUID()}`))) as CleanupResult,
    requestsFor: (action: string, instanceId: string) => emulator.requests.filter((r) => r.action === action && r.query.InstanceId === instanceId),
  };
}
