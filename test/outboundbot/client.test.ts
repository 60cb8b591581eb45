// What the client makes of answers that are not the API's own: gateway pages and upstream
// text that echoes secrets (issue #13), over real HTTP against the emulator.
import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../lib/core/retry-policy';
import { useTestEmulator } from '../support/stack';
import { OutboundBotCallError } from '../../lib/outboundbot/errors';
import { MAX_UPSTREAM_MESSAGE_CHARS } from '../../lib/outboundbot/upstream-text';

const INSTANCE = 'env.client-instance';
const env = useTestEmulator(INSTANCE, ['s1']);

const failure = (): Promise<OutboundBotCallError> =>
  env.client.call('WithdrawScriptReview', { InstanceId: INSTANCE, ScriptId: 's1' }, 2_000).then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as OutboundBotCallError,
  );

describe('answers that are not JSON', () => {
  it('a 403 HTML page from a gateway or WAF is a refusal, not retried', async () => {
    env.emulator.injectFault({ kind: 'html-status', status: 403 });
    const error = await failure();
    expect(error).toBeInstanceOf(OutboundBotCallError);
    expect(error).toMatchObject({ code: 'UpstreamRefused', statusCode: 403 });
    expect(isRetryable(error)).toBe(false);
  });

  it.each([502, 503, 429])('a %i HTML page stays retryable', async (status) => {
    env.emulator.injectFault({ kind: 'html-status', status });
    const error = await failure();
    expect(error).toMatchObject({ statusCode: status });
    expect(isRetryable(error)).toBe(true);
  });

  it('a 200 HTML page stays retryable (no status reached the policy)', async () => {
    env.emulator.injectFault({ kind: 'non-json' });
    const error = await failure();
    expect(error).toMatchObject({ code: 'InvalidResponse', statusCode: undefined });
    expect(isRetryable(error)).toBe(true);
  });
});

describe('upstream text that echoes secrets', () => {
  it('never carries the STS token, the key secret or the signature on, and is bounded', async () => {
    env.emulator.injectFault({ kind: 'echo-secrets', status: 400 });
    const error = await failure();
    expect(error.code).toBe('InvalidParameter');
    const text = JSON.stringify({ message: error.message });
    for (const secret of [env.role.securityToken, env.role.accessKeySecret]) expect(text, 'a credential leaked').not.toContain(secret);
    expect(text).not.toMatch(/Signature=[0-9a-f]{16}/i);
    expect(text).toContain('[REDACTED]');
    expect(error.message.length).toBeLessThanOrEqual(MAX_UPSTREAM_MESSAGE_CHARS + 1);
  });
});
