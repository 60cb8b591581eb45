import { describe, expect, it } from 'vitest';
import { parseWithdrawConfig } from '../../lib/runtime/config';
import { createInstanceState } from '../../lib/runtime/instance-state';
import { systemClock } from '../../lib/core/clock';

const CALLBACK_SECRET = 'whsec-not-shaped-callback-secret-0123456789';

describe('the instance state', () => {
  it('masks the configuration\'s secrets for the instance\'s life, through many rotations of the role\'s keys', () => {
    const lines: string[] = [];
    const state = createInstanceState({ env: { CALLBACK_SECRET }, clock: systemClock, write: (line) => lines.push(line) }, parseWithdrawConfig);
    const cfg = state.loadConfig();
    // FC rotates the role's STS triple hourly: a long-lived instance sees one new set after another.
    for (let i = 0; i < 100; i++) state.client({ accessKeyId: `STS.key${i}`, accessKeySecret: `rotating-secret-${i}-abcdef`, securityToken: `rotating-token-${i}-abcdef` }, cfg);
    state.logger().info('echo', { upstream: `said ${CALLBACK_SECRET} and rotating-secret-99-abcdef` });
    expect(lines.join('\n')).not.toContain(CALLBACK_SECRET);
    expect(lines.join('\n')).not.toContain('rotating-secret-99-abcdef');
  });

  it('reuses the client while the role\'s keys are the same, and makes a new one when they rotate', () => {
    const state = createInstanceState({ env: {}, clock: systemClock, write: () => {} }, parseWithdrawConfig);
    const cfg = state.loadConfig();
    const keys = { accessKeyId: 'STS.first', accessKeySecret: 'first-secret-abcdef', securityToken: 'first-token-abcdef' };
    const first = state.client(keys, cfg);
    expect(state.client({ ...keys }, cfg)).toBe(first);
    expect(state.client({ ...keys, securityToken: 'second-token-abcdef' }, cfg)).not.toBe(first);
  });

  it.each([
    ['deployed, no allow-list', { FC_FUNCTION_NAME: 'withdraw-script-review-withdraw' }, 1],
    ['deployed, with an allow-list', { FC_FUNCTION_NAME: 'withdraw-script-review-withdraw', ALLOWED_INSTANCE_IDS: 'inst-a' }, 0],
    ['a local run', {}, 0],
  ])('%s: the unscoped-instances warning is said %d time(s), however often the config is read', (_, env, times) => {
    const lines: string[] = [];
    const state = createInstanceState({ env, clock: systemClock, write: (line) => lines.push(line) }, parseWithdrawConfig);
    state.loadConfig();
    state.loadConfig();
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.variable === 'ALLOWED_INSTANCE_IDS');
    expect(warnings).toHaveLength(times);
    for (const warning of warnings) expect(warning).toMatchObject({ level: 'warn', message: expect.stringContaining('any OutboundBot instance') });
  });
});
