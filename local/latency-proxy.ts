// A TCP proxy on loopback that holds every chunk it forwards for `delayMs`, in each direction, so a
// store (or any peer) behind it looks `2 × delayMs` further away per round trip. Order is kept per
// direction; a delay of 0 forwards at once. Used by the bench's store round-trip row (a handler's
// extra wall time per delivery, over the added round-trip time, is the number of round trips it
// waited on) and usable by any test that needs a slow peer. No dependency beyond node:net.
import { createConnection, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LatencyProxyOptions {
  /** Where the proxy forwards to (loopback by default). */
  targetHost?: string;
  targetPort: number;
  /** Held per chunk, each way; changeable later with `setDelay`. */
  delayMs?: number;
}

/** What the proxy did since it started (or since `resetStats`). */
export interface LatencyProxyStats {
  /** Chunks forwarded client → target and target → client. */
  chunksUp: number;
  chunksDown: number;
  /** Total time chunks were really held (timers fire late: this, not the nominal delay, is what was added), ms. */
  heldUpMs: number;
  heldDownMs: number;
  connections: number;
}

export interface LatencyProxy {
  /** The port to connect to instead of the target's. */
  port: number;
  delayMs(): number;
  setDelay(ms: number): void;
  stats(): LatencyProxyStats;
  resetStats(): void;
  close(): Promise<void>;
}

const emptyStats = (): LatencyProxyStats => ({ chunksUp: 0, chunksDown: 0, heldUpMs: 0, heldDownMs: 0, connections: 0 });

/**
 * One direction of one connection: chunks wait in arrival order, each until its own due time
 * (its arrival plus the delay then in force), and none overtakes an earlier one.
 */
function delayedPipe(from: Socket, to: Socket, delay: () => number, held: (ms: number) => void): void {
  const queue: { chunk: Buffer; arrivedMs: number; dueMs: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deliver = (chunk: Buffer, arrivedMs: number) => {
    held(performance.now() - arrivedMs);
    if (!to.destroyed) to.write(chunk);
  };
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.dueMs <= now) {
      const { chunk, arrivedMs } = queue.shift()!;
      deliver(chunk, arrivedMs);
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.dueMs - now));
    else if (ended) to.end();
  };
  let ended = false;
  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    const ms = delay();
    if (ms <= 0 && queue.length === 0) return deliver(chunk, now);
    queue.push({ chunk, arrivedMs: now, dueMs: now + ms });
    if (timer === undefined) timer = setTimeout(flush, Math.max(0, queue[0]!.dueMs - now));
  });
  from.on('end', () => {
    ended = true;
    if (queue.length === 0) to.end();
  });
  from.on('close', () => {
    if (timer !== undefined && to.destroyed) clearTimeout(timer);
  });
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  let delayMs = options.delayMs ?? 0;
  let stats = emptyStats();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    stats.connections += 1;
    const target = createConnection({ host: options.targetHost ?? '127.0.0.1', port: options.targetPort });
    for (const socket of [client, target]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // Either side failing closes both, as a dropped connection would.
      socket.on('error', () => {
        client.destroy();
        target.destroy();
      });
    }
    client.once('close', () => target.destroy());
    target.once('close', () => client.destroy());
    delayedPipe(client, target, () => delayMs, (ms) => ((stats.chunksUp += 1), (stats.heldUpMs += ms)));
    delayedPipe(target, client, () => delayMs, (ms) => ((stats.chunksDown += 1), (stats.heldDownMs += ms)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    port,
    delayMs: () => delayMs,
    setDelay(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`delay must be a finite number >= 0, not ${ms}`);
      delayMs = ms;
    },
    stats: () => ({ ...stats }),
    resetStats() {
      stats = emptyStats();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
