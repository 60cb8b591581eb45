// The hard deadline and the stale read timers (issue #13), against the emulator over real HTTP
// on a reused keep-alive connection: the case where httpx's own timers fail.
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestEmulator } from '../support/stack';
import { OutboundBotCallError } from '../../lib/outboundbot/errors';
import { CALL_HEADER, withHardDeadline } from '../../lib/outboundbot/transport';

const INSTANCE = 'transport-instance';
const env = useTestEmulator(INSTANCE, ['s1', 's2', 's3']);

const withdraw = (scriptId: string, timeoutMs: number) => env.client.call('WithdrawScriptReview', { InstanceId: INSTANCE, ScriptId: scriptId }, timeoutMs);

async function timed<T>(work: () => Promise<T>): Promise<{ error: unknown; ms: number }> {
  const startMs = performance.now();
  const error = await work().then(() => undefined, (e: unknown) => e);
  return { error, ms: performance.now() - startMs };
}

describe('every attempt has a hard deadline', () => {
  it.each([
    ['a body dripping one byte every 100 ms', { kind: 'drip', intervalMs: 100 } as const],
    ['an answer that stalls after half its body', { kind: 'stall' } as const],
  ])('cuts %s on a reused keep-alive connection at the deadline', async (_, fault) => {
    await withdraw('s1', 2_000);
    const connectionsBefore = env.emulator.connections;
    env.emulator.injectFault(fault, { action: 'WithdrawScriptReview' });
    const { error, ms } = await timed(() => withdraw('s2', 600));
    expect(env.emulator.connections, 'the drip went over the warm socket').toBe(connectionsBefore);
    expect(error).toBeInstanceOf(OutboundBotCallError);
    expect(error).toMatchObject({ code: 'RequestTimeout', statusCode: undefined });
    expect(ms).toBeGreaterThanOrEqual(590);
    expect(ms).toBeLessThan(900);
    // The cut socket is gone: the next call opens a fresh connection and succeeds.
    await expect(withdraw('s3', 2_000)).resolves.toMatchObject({ Success: true });
    expect(env.emulator.connections).toBe(connectionsBefore + 1);
  });

  it('rejects at the deadline even when the work never settles', async () => {
    const { error, ms } = await timed(() => withHardDeadline(100, () => new Promise(() => {})));
    expect(error).toMatchObject({ name: 'RequestTimeoutHardDeadlineError' });
    expect(ms).toBeLessThan(400);
  });
});

describe('the guard header', () => {
  it('names the call inside the process and is never sent', async () => {
    const sent: Array<string | undefined> = [];
    const onRequest = (message: unknown) => sent.push((message as { request: ClientRequest }).request.getHeader(CALL_HEADER) as string | undefined);
    diagnostics.subscribe('http.client.request.start', onRequest);
    try {
      await withdraw('s1', 2_000);
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onRequest);
    }
    expect(sent).toEqual([undefined]);
  });
});

describe('no stale read timer outlives its answer', () => {
  it('leaves no armed httpx read timer on a finished keep-alive socket', async () => {
    const sockets = new Set<Socket>();
    const onRequest = (message: unknown) => {
      const { request } = message as { request: ClientRequest };
      if (request.socket) sockets.add(request.socket);
      else request.once('socket', (socket) => sockets.add(socket));
    };
    diagnostics.subscribe('http.client.request.start', onRequest);
    try {
      for (let i = 0; i < 5; i++) await env.client.call('ListScripts', { InstanceId: INSTANCE, PageNumber: '1', PageSize: '10' }, 10_000);
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onRequest);
    }
    const armed = [...sockets].flatMap((socket) =>
      Object.getOwnPropertySymbols(socket)
        .filter((symbol) => symbol.description === 'TIMER::READ_TIMER')
        .map((symbol) => (socket as unknown as Record<symbol, unknown>)[symbol])
        .filter((timer) => timer !== null && timer !== undefined),
    );
    expect(sockets.size).toBeGreaterThan(0);
    expect(armed).toEqual([]);
  });
});
