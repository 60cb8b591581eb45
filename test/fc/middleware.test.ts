import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { createLogger } from '../../lib/core/logger';
import { SecretRegistry } from '../../lib/core/redact';
import type { FcContext } from '../../lib/fc/context';
import type { FailedInvocation } from '../../lib/fc/error-mapping';
import { invocationErrorMapper, invocationScopeOpener, type ScopedContext } from '../../lib/fc/middleware';

interface TestScope extends FailedInvocation {
  opened: number;
}

/** A middy handler built the way lib/withdraw/service.ts builds the withdraw function's. */
function handlerThat(work: (event: unknown, scope: TestScope) => Promise<unknown>, http = false) {
  const lines: string[] = [];
  let opened = 0;
  const open = (context: FcContext): TestScope => ({
    requestId: context.requestId,
    startMs: 0,
    coldStart: false,
    http,
    log: createLogger({ level: 'info', secrets: new SecretRegistry(), write: (line) => lines.push(line) }).child({ requestId: context.requestId }),
    opened: ++opened,
  });
  const handler = middy<unknown, unknown, Error, ScopedContext<TestScope>>({ timeoutEarlyInMillis: 0 })
    .use(invocationScopeOpener(open))
    .use(invocationErrorMapper<TestScope>(() => 5))
    .handler((event, context) => work(event, context.invocationScope!));
  return { handler, lines };
}

describe('invocationScopeOpener', () => {
  it('opens one scope per invocation, before the handler, and hands it over on the context', async () => {
    const seen: TestScope[] = [];
    const { handler } = handlerThat(async (_event, scope) => (seen.push(scope), 'done'));
    await expect(handler({}, { requestId: 'r-1' })).resolves.toBe('done');
    await expect(handler({}, { requestId: 'r-2' })).resolves.toBe('done');
    expect(seen.map((s) => [s.requestId, s.opened])).toEqual([
      ['r-1', 1],
      ['r-2', 2],
    ]);
  });
});

describe('invocationErrorMapper', () => {
  it('answers a refusal of an event with its error body', async () => {
    const { handler, lines } = handlerThat(async () => {
      throw new InvalidParameterError([{ Path: 'InstanceId', Message: 'is required' }]);
    });
    await expect(handler({}, { requestId: 'r-3' })).resolves.toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter', RequestId: 'r-3' });
    expect(lines.map((l) => JSON.parse(l).durationMs)).toEqual([5]);
  });

  it('answers a refusal of an HTTP request with an HTTP response', async () => {
    const { handler } = handlerThat(async () => {
      throw new InvalidParameterError([{ Path: 'body', Message: 'is not valid JSON' }]);
    }, true);
    await expect(handler({}, { requestId: 'r-4' })).resolves.toMatchObject({ statusCode: 400, headers: { 'x-fc-request-id': 'r-4' } });
  });

  it('rethrows what it does not answer as the very object thrown, untouched', async () => {
    const bug = new RangeError('a bug');
    const { handler, lines } = handlerThat(async () => {
      throw bug;
    });
    const thrown = await handler({}, { requestId: 'r-5' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBe(bug);
    expect(Object.keys(thrown as object)).toEqual([]);
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['invocation crashed']);
  });

  it('lets a failure to open the scope through unmapped: there is nothing to answer with', async () => {
    const broken = new Error('no scope');
    const handler = middy<unknown, unknown, Error, ScopedContext<TestScope>>({ timeoutEarlyInMillis: 0 })
      .use(
        invocationScopeOpener((): TestScope => {
          throw broken;
        }),
      )
      .use(invocationErrorMapper<TestScope>(() => 0))
      .handler(async () => 'never');
    await expect(handler({}, { requestId: 'r-6' })).rejects.toBe(broken);
  });
});
