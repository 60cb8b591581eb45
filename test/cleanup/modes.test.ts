// The cleanup's mode table: which entry a run takes, that each is reachable end to end (OutboundBot
// emulator over real HTTP; FC played by the local front end, which checks fc2's signature), and
// that a mode outside the table cannot even be written.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { EmulatorScript, OutboundBotEmulator } from '../../emulator/outboundbot';
import { systemClock } from '../../lib/core/clock';
import { MODES, runModeOf, type RunMode } from '../../lib/cleanup/modes';
import { createCleanupService } from '../../lib/cleanup/service';
import type { CleanupResult } from '../../lib/cleanup/summary';
import type { CleanupConfig } from '../../lib/runtime/config';
import type { Frontend } from '../../local/fc-frontend';
import { startQueueingFrontend, WITHDRAW_FUNCTION } from '../support/fanout-stack';
import { contextFor, startTestEmulator, type RoleCredentials } from '../support/stack';


let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let frontend: Frontend;
/** What the withdraw function would have been given: each async invocation's event. */
const queued: Array<{ Items: Array<{ InstanceId: string; ScriptId: string }> }> = [];

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
  frontend = await startQueueingFrontend(role, (event) => queued.push(JSON.parse(event.toString('utf8'))));
});
afterAll(async () => {
  await frontend?.close();
  await emulator?.close();
});

describe('the mode table', () => {
  it('has exactly the three modes, and a mode outside it does not type-check', () => {
    expectTypeOf<RunMode>().toEqualTypeOf<'dryRun' | 'inline' | 'fanout'>();
    expectTypeOf<keyof typeof MODES>().toEqualTypeOf<RunMode>();
    expectTypeOf(runModeOf).returns.toEqualTypeOf<RunMode>();
    // @ts-expect-error: no such entry
    expect(MODES.parallel).toBeUndefined();
    // @ts-expect-error: CLEANUP_MODE is 'inline' | 'fanout' (lib/runtime/config.ts), nothing else
    const unknownMode: CleanupConfig['CLEANUP_MODE'] = 'parallel';
    expect(Object.keys(MODES).sort()).toEqual(['dryRun', 'fanout', 'inline']);
    expect(Object.keys(MODES)).not.toContain(unknownMode);
  });

  it('a dry run wins over CLEANUP_MODE; otherwise CLEANUP_MODE picks the entry, and every entry is picked', () => {
    const picks = {
      'DryRun, inline': runModeOf({ DryRun: true }, { CLEANUP_MODE: 'inline' }),
      'DryRun, fanout': runModeOf({ DryRun: true }, { CLEANUP_MODE: 'fanout' }),
      inline: runModeOf({ DryRun: false }, { CLEANUP_MODE: 'inline' }),
      fanout: runModeOf({ DryRun: false }, { CLEANUP_MODE: 'fanout' }),
    };
    expect(picks).toEqual({ 'DryRun, inline': 'dryRun', 'DryRun, fanout': 'dryRun', inline: 'inline', fanout: 'fanout' });
    for (const mode of Object.keys(MODES)) expect(Object.values(picks), `entry ${mode} is reachable`).toContain(mode);
  });

  // One case per entry; a mode added to the table without a case here fails to type-check.
  const cases: Record<RunMode, { env: () => Record<string, string>; DryRun: boolean; check(result: CleanupResult, instanceId: string, stale: EmulatorScript[]): Promise<void> }> = {
    dryRun: {
      env: () => ({ CLEANUP_MODE: 'inline' }),
      DryRun: true,
      async check(result, instanceId, stale) {
        expect(result).toMatchObject({ Success: true, DryRun: true, Withdrawn: 0, Dispatched: 0 });
        expect(result.Candidates!.map((c) => c.ScriptId)).toEqual(stale.map((s) => s.ScriptId));
        expect(result.Results).toBeUndefined();
        expect(result.Chunks).toBeUndefined();
        for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId), `script ${s.ScriptId} withdrawn`).toBe(0);
      },
    },
    inline: {
      env: () => ({ CLEANUP_MODE: 'inline' }),
      DryRun: false,
      async check(result, instanceId, stale) {
        expect(result).toMatchObject({ Success: true, Mode: 'inline', Withdrawn: stale.length, Dispatched: 0 });
        expect(result.Results!.map((r) => r.ScriptId)).toEqual(stale.map((s) => s.ScriptId));
        expect(result.Chunks).toBeUndefined();
        for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId), `script ${s.ScriptId} withdrawn`).toBe(1);
      },
    },
    fanout: {
      env: () => ({ CLEANUP_MODE: 'fanout', FC_ENDPOINT: frontend.url, WITHDRAW_FUNCTION_NAME: WITHDRAW_FUNCTION }),
      DryRun: false,
      async check(result, instanceId, stale) {
        expect(result).toMatchObject({ Success: true, Mode: 'fanout', Withdrawn: 0, Dispatched: stale.length });
        expect(result.Chunks!.map((c) => [c.Index, c.Size, c.Code])).toEqual([[0, stale.length, 'Accepted']]);
        expect(result.Results).toBeUndefined();
        await frontend.drain();
        const items = queued.flatMap((event) => event.Items).filter((item) => item.InstanceId === instanceId);
        expect(items.map((item) => item.ScriptId)).toEqual(stale.map((s) => s.ScriptId));
        // The cleanup only queued them; withdrawing is the withdraw function's (test/cleanup/fanout.test.ts).
        for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId), `script ${s.ScriptId} withdrawn`).toBe(0);
      },
    },
  };

  for (const [mode, { env, DryRun, check }] of Object.entries(cases)) {
    it(`reaches the ${mode} entry through the service, which produces that mode's outcome`, async () => {
      const now = Date.now();
      const stale = [0, 1, 2].map((i): EmulatorScript => ({ ScriptId: randomUUID(), ScriptName: `stale ${i}`, Status: 'EXAMINE_IN_PROGRESS', UpdateTime: now - (300 - i) * 60_000 }));
      const instanceId = randomUUID();
      emulator.addInstance(instanceId, [...stale, { ScriptId: randomUUID(), ScriptName: 'young', Status: 'EXAMINE_IN_PROGRESS', UpdateTime: now }]);
      const service = createCleanupService({
        env: {
          OUTBOUNDBOT_ENDPOINT: emulator.endpoint,
          OUTBOUNDBOT_PROTOCOL: 'http',
          RETRY_BASE_DELAY_MS: '1',
          RETRY_MAX_DELAY_MS: '5',
          ...env(),
        },
        clock: systemClock,
        write: () => {},
      });
      const result = (await service.handle({ InstanceId: instanceId, OlderThanMinutes: 60, DryRun }, contextFor(role, 60))) as CleanupResult;
      expect(result).toMatchObject({ Listed: 4, Selected: 3, Skipped: 1, Failed: 0, Truncated: false });
      await check(result, instanceId, stale);
    });
  }

  it('a dry run checks the configured mode\'s settings too: fan-out without an account id is refused before listing', async () => {
    const before = emulator.requests.length;
    const service = createCleanupService({
      env: { OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http', CLEANUP_MODE: 'fanout', FC_REGION: 'cn-shanghai' },
      clock: systemClock,
      write: () => {},
    });
    const context = { ...contextFor(role), accountId: undefined };
    const result = (await service.handle({ InstanceId: randomUUID(), OlderThanMinutes: 60, DryRun: true }, context)) as Record<string, unknown>;
    expect(result).toMatchObject({ Success: false, HttpStatusCode: 500, Code: 'InvalidConfiguration' });
    expect(result.Message).toContain('FC_ACCOUNT_ID');
    expect(emulator.requests.length).toBe(before);
  });
});
