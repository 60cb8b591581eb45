import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy, type LatencyProxy } from '../../local/latency-proxy';

/** An echo server on loopback. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Sends `text` and resolves with the wall time until `text` has come back whole. */
function roundTrip(socket: Socket, text: string): Promise<{ ms: number; echoed: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let echoed = '';
    const onData = (chunk: Buffer) => {
      echoed += chunk.toString();
      if (echoed.length < text.length) return;
      socket.off('data', onData);
      resolve({ ms: performance.now() - t0, echoed });
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

describe('local/latency-proxy', () => {
  let proxy: LatencyProxy | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await proxy?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('holds each chunk the delay in each direction, keeps order, and reports what it held', async () => {
    const echo = await echoServer();
    server = echo.server;
    proxy = await startLatencyProxy({ targetPort: echo.port, delayMs: 25 });
    const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
    await new Promise((resolve) => socket.once('connect', resolve));

    const slow = await roundTrip(socket, 'abc');
    expect(slow.echoed).toBe('abc');
    expect(slow.ms).toBeGreaterThanOrEqual(49);
    const stats = proxy.stats();
    expect(stats.chunksUp).toBeGreaterThanOrEqual(1);
    expect(stats.heldUpMs / stats.chunksUp).toBeGreaterThanOrEqual(24);
    expect(stats.heldDownMs / stats.chunksDown).toBeGreaterThanOrEqual(24);

    // Several writes in a burst arrive whole and in order.
    const burst = Array.from({ length: 20 }, (_, i) => `<${i}>`);
    const ordered = new Promise<string>((resolve) => {
      let echoed = '';
      const want = burst.join('');
      socket.on('data', (chunk: Buffer) => {
        echoed += chunk.toString();
        if (echoed.length >= want.length) resolve(echoed);
      });
    });
    for (const part of burst) socket.write(part);
    expect(await ordered).toBe(burst.join(''));
    socket.removeAllListeners('data');

    proxy.setDelay(0);
    proxy.resetStats();
    const fast = await roundTrip(socket, 'xyz');
    expect(fast.echoed).toBe('xyz');
    expect(fast.ms).toBeLessThan(25);
    expect(proxy.stats().heldUpMs).toBeLessThan(5);
    socket.destroy();
  });

  it('refuses a negative delay', async () => {
    const echo = await echoServer();
    server = echo.server;
    proxy = await startLatencyProxy({ targetPort: echo.port });
    expect(() => proxy!.setDelay(-1)).toThrow(/delay/);
  });
});
