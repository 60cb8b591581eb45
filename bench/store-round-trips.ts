// Store round trips per single-item delivery with Redis (DESIGN §7: at most 2), measured by adding
// latency to the store: the handler reaches redis-server through local/latency-proxy.ts, which
// holds every chunk `DELAY_MS` each way. One warm child, one connection; rounds alternate the
// proxy between 0 and DELAY_MS, so both halves see the same process, JIT state and machine drift.
// Round trips = (median wall per delivery with the delay − without) / the round trip really added
// (the proxy's measured hold per chunk, up plus down: timers fire late, the nominal delay is not
// what was added). A third half at twice the delay gives the slope between the two delays beside
// it: a delivery that waits idle also pays a fixed ~2–3 ms to wake up (scheduler, cold caches),
// which the plain difference counts as a fraction of a round trip and the slope does not.
import type { RedisServer } from '../local/redis-server';
import { int } from './config';
import { startLatencyProxy, type LatencyProxy, type LatencyProxyStats } from '../local/latency-proxy';
import type { IpcChild } from './processes';
import { judged, ms, spread, us, type Budget, type Row } from './rows';
import { median, summarize } from './stats';
import type { RoundReply } from './warm-child';


/** Held per chunk each way: 20 ms a round trip, far above loopback's and the handler's own jitter. */
const DELAY_MS = int('BENCH_RTT_DELAY_MS', 10);
const WARMUP = int('BENCH_RTT_WARMUP', 1000, 20);
const ROUNDS = int('BENCH_RTT_ROUNDS', 7, 3);
const CALLS = int('BENCH_RTT_CALLS', 30, 5);

/** Seeded ids of the child: `${PREFIX}${n}`, n in [0, SEEDED). */
export const ROUND_TRIP_PREFIX = 'warm-rtt-';
export const ROUND_TRIP_SEEDED = WARMUP + ROUNDS * 3 * CALLS;

/** DESIGN §7 says 2; the measurement's own noise (scheduling, a GC inside a delayed round) is ±0.1–0.2 on this machine. */
const BUDGET: Budget = { op: '<=', limit: 2.3, text: '≤ 2 (fails > 2.3)' };
const NAME = 'store round trips per single-item delivery (Redis)';

/** The child, started with IDEMPOTENCY_REDIS_URL set to `redisUrl`, ids from ROUND_TRIP_PREFIX. */
export type StartChild = (prefix: string, extraEnv: Record<string, string>) => IpcChild;

/** Each round's parts, by their delay as a multiple of DELAY_MS. */
const HALVES = [['without', 0], ['with', 1], ['double', 2]] as const;
type Halves = Record<(typeof HALVES)[number][0], Half>;

interface Half {
  callWallMs: number[];
  cpuUsPerCall: number;
  stats: LatencyProxyStats;
}

const mapHalves = (halves: Halves[], f: (h: Half) => number) => Object.fromEntries(HALVES.map(([name]) => [name, summarize(halves.map((h) => f(h[name])))]));

/** The round trip the proxy really added in a delayed round: its mean hold up plus its mean hold down. */
const addedRttMs = (s: LatencyProxyStats): number => s.heldUpMs / Math.max(1, s.chunksUp) + s.heldDownMs / Math.max(1, s.chunksDown);

async function half(child: IpcChild, proxy: LatencyProxy, delayMs: number, from: number): Promise<Half> {
  proxy.setDelay(delayMs);
  proxy.resetStats();
  const reply = await child.ask<RoundReply>({ op: 'round', from, count: CALLS, perCall: true }, 120_000);
  return { callWallMs: reply.callWallMs!, cpuUsPerCall: reply.cpuUs / reply.calls, stats: proxy.stats() };
}

export async function storeRoundTrips(start: StartChild, redis: RedisServer | undefined): Promise<Row[]> {
  if (!redis) return [{ id: 'store-round-trips', name: NAME, value: null, unit: 'round trips', measured: 'skipped: redis-server is not installed', budget: null, status: 'skipped', data: {} }];
  const proxy = await startLatencyProxy({ targetPort: redis.port, delayMs: 0 });
  const child = start(ROUND_TRIP_PREFIX, { IDEMPOTENCY_REDIS_URL: `redis://127.0.0.1:${proxy.port}/0` });
  const halves: Halves[] = [];
  try {
    await child.ready;
    await child.ask({ op: 'round', from: 0, count: WARMUP }, 120_000);
    let next = WARMUP;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated: no half always runs first.
      const pair: Partial<Halves> = {};
      for (let k = 0; k < HALVES.length; k++) {
        const [name, factor] = HALVES[(round + k) % HALVES.length]!;
        pair[name] = await half(child, proxy, factor * DELAY_MS, next);
        next += CALLS;
      }
      halves.push(pair as Halves);
    }
    await child.ask({ op: 'exit' });
  } finally {
    child.kill();
    await proxy.close();
  }
  return [roundTripRow(halves)];
}

function roundTripRow(halves: Halves[]): Row {
  const withMs = summarize(halves.flatMap((h) => h.with.callWallMs));
  const withoutMs = summarize(halves.flatMap((h) => h.without.callWallMs));
  const doubleMs = summarize(halves.flatMap((h) => h.double.callWallMs));
  const rtts = halves.map((h) => addedRttMs(h.with.stats));
  const rttMs = median(rtts);
  const doubleRttMs = median(halves.map((h) => addedRttMs(h.double.stats)));
  const value = (withMs.median - withoutMs.median) / rttMs;
  const slope = (doubleMs.median - withMs.median) / (doubleRttMs - rttMs);
  // Per round: the medians of its two halves, over its own added round trip.
  const perRound = summarize(halves.map((h, i) => (median(h.with.callWallMs) - median(h.without.callWallMs)) / rtts[i]!));
  // A cross-check from the wire: the client's writes the proxy forwarded per delivery (a pipeline may take one write or several).
  const writesUp = summarize(halves.map((h) => h.with.stats.chunksUp / CALLS));
  const cpu = summarize(halves.map((h) => h.without.cpuUsPerCall));
  return {
    id: 'store-round-trips',
    name: NAME,
    value,
    unit: 'round trips',
    measured:
      `${value.toFixed(2)} = (${spread(withMs, ms)} − ${spread(withoutMs, ms)}) / ${ms(rttMs)} added a round trip (${DELAY_MS} ms each way, as held); ` +
      `per round ${spread(perRound, (v) => v.toFixed(2))}; slope from ${DELAY_MS} to ${2 * DELAY_MS} ms each way ${slope.toFixed(2)} (${ms(doubleMs.median)}); ${ROUNDS}×${CALLS} deliveries each way; client writes / delivery ${writesUp.median.toFixed(1)}; CPU ${us(cpu.median)} / delivery through the proxy at 0 ms`,
    budget: BUDGET,
    status: judged(value, BUDGET),
    data: {
      delayMsEachWay: DELAY_MS,
      warmupCalls: WARMUP,
      rounds: ROUNDS,
      callsPerHalf: CALLS,
      wallMsPerDelivery: { withDelay: withMs, without: withoutMs, withDoubleDelay: doubleMs },
      addedRoundTripMs: summarize(rtts),
      addedRoundTripMsDoubleDelay: doubleRttMs,
      roundTripsBySlope: slope,
      cpuUsPerDelivery: mapHalves(halves, (h) => h.cpuUsPerCall),
      roundTripsPerRound: perRound,
      clientWritesPerDelivery: writesUp,
      cpuUsPerDeliveryAt0Ms: cpu,
      proxyStats: halves.map((h) => Object.fromEntries(HALVES.map(([name]) => [name, h[name].stats]))),
    },
  };
}
