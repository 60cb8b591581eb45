import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';
import { httpEvent } from '../support/events';
import { contextFor, serviceFor, startTestEmulator, type RoleCredentials } from '../support/stack';

let emulator: OutboundBotEmulator;
let role: RoleCredentials;

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
});
afterAll(() => emulator.close());

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const post = (body: unknown) => bytes(httpEvent({ body: JSON.stringify(body), contentType: 'application/json' }));

describe('the withdraw handler: how a refusal is answered depends on how far the invocation got', () => {
  it('an event that is no delivery at all is answered as an event, its line without a trigger', async () => {
    const { service, logs } = serviceFor(emulator);
    const answer = await service.handle(bytes({ triggerTime: '2026-11-24T03:00:00Z', triggerName: 'nightly', payload: '{}' }), contextFor(role, 30, 'req-timer'));
    expect(answer).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter', RequestId: 'req-timer' });
    expect(logs()).toEqual([expect.objectContaining({ message: 'request refused', requestId: 'req-timer' })]);
    expect(logs()[0]).not.toHaveProperty('trigger');
  });

  it('an HTTP request refused by a bad config is answered over HTTP, before the trigger reaches the log', async () => {
    const { service, logs } = serviceFor(emulator, { OUTBOUNDBOT_PROTOCOL: 'ftp' });
    const response = (await service.handle(post({}), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(500);
    expect(logs()[0]).not.toHaveProperty('trigger');
  });

  it('a refusal after the config is read carries the trigger', async () => {
    const { service, logs } = serviceFor(emulator);
    const response = (await service.handle(post({ InstanceId: 'inst' }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(400);
    expect(logs()).toEqual([expect.objectContaining({ message: 'request refused', trigger: 'http', Code: 'InvalidParameter' })]);
  });

  it('each invocation gets its own scope on the context it was given', async () => {
    const { service } = serviceFor(emulator);
    const context = contextFor(role, 30, 'req-scope');
    await service.handle(post({ InstanceId: 'inst' }), context);
    expect(context).toMatchObject({ invocationScope: { requestId: 'req-scope', http: true, coldStart: true } });
  });
});
