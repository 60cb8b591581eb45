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
});
