// What the client makes of answers that are not the API's own: gateway pages and upstream
// text that echoes secrets (issue #13), over real HTTP against the emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { isRetryable } from '../../lib/core/retry-policy';
import { createOutboundBotClient, type OutboundBotClient } from '../../lib/outboundbot/client';
import { OutboundBotCallError } from '../../lib/outboundbot/errors';
import { MAX_UPSTREAM_MESSAGE_CHARS } from '../../lib/outboundbot/upstream-text';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';

const INSTANCE = 'client-instance';
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let client: OutboundBotClient;

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
  client = createOutboundBotClient(role, { endpoint: emulator.endpoint, protocol: 'http', connectTimeoutMs: 1_000 });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.addInstance(INSTANCE, [script('s1')]);
});

const failure = (): Promise<OutboundBotCallError> =>
  client.call('WithdrawScriptReview', { InstanceId: INSTANCE, ScriptId: 's1' }, 2_000).then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as OutboundBotCallError,
  );

describe('answers that are not JSON', () => {
  it('a 403 HTML page from a gateway or WAF is a refusal, not retried', async () => {
    emulator.injectFault({ kind: 'html-status', status: 403 });
    const error = await failure();
    expect(error).toBeInstanceOf(OutboundBotCallError);
    expect(error).toMatchObject({ code: 'UpstreamRefused', statusCode: 403 });
    expect(isRetryable(error)).toBe(false);
  });

  it.each([502, 503, 429])('a %i HTML page stays retryable', async (status) => {
    emulator.injectFault({ kind: 'html-status', status });
    const error = await failure();
    expect(error).toMatchObject({ statusCode: status });
    expect(isRetryable(error)).toBe(true);
  });

  it('a 200 HTML page stays retryable (no status reached the policy)', async () => {
    emulator.injectFault({ kind: 'non-json' });
    const error = await failure();
    expect(error).toMatchObject({ code: 'InvalidResponse', statusCode: undefined });
    expect(isRetryable(error)).toBe(true);
  });
});

describe('upstream text that echoes secrets', () => {
  it('never carries the STS token, the key secret or the signature on, and is bounded', async () => {
    emulator.injectFault({ kind: 'echo-secrets', status: 400 });
    const error = await failure();
    expect(error.code).toBe('InvalidParameter');
    const text = JSON.stringify({ message: error.message });
    for (const secret of [role.securityToken, role.accessKeySecret]) expect(text, 'a credential leaked').not.toContain(secret);
    expect(text).not.toMatch(/Signature=[0-9a-f]{16}/i);
    expect(text).toContain('[REDACTED]');
    expect(error.message.length).toBeLessThanOrEqual(MAX_UPSTREAM_MESSAGE_CHARS + 1);
  });
});
