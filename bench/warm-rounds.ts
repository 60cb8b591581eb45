// The warm rounds behind the warm and store-cost rows: one long-lived child per variant (the
// handler, the official client alone, the function's guarded client, a hand-signed request, and
// the handler with Redis), warmed past the JIT's plateau, then measured round by round, rotated,
// one child at a time; each round's CPU is also read from /proc as a cross-check.
import path from 'node:path';
import type { RedisServer } from '../local/redis-server';
import { BUILD, WARM_CALLS, WARM_ROUNDS, WARM_WARMUP } from './config';
import { IpcChild, procCpuUs, sleep } from './processes';
import { commandsProcessed } from './redis-info';
import { withdrawTarget, type Bench } from './setup';
import type { RoundReply, WarmArgs, WarmVariant } from './warm-child';

interface WarmSetup {
  name: string;
  variant: WarmVariant;
  prefix: string;
  extraEnv?: Record<string, string>;
}

/** The handler with IDEMPOTENCY_REDIS_URL set: measured in the same rounds as the others. */
export const REDIS_VARIANT = 'handler+redis';

const WARM_SETUPS: readonly WarmSetup[] = [
  { name: 'handler', variant: 'handler', prefix: 'warm-handler-' },
  { name: 'client', variant: 'client', prefix: 'warm-client-' },
  { name: 'guarded', variant: 'guarded', prefix: 'warm-guarded-' },
  { name: 'raw', variant: 'raw', prefix: 'warm-raw-' },
];

export function warmSetups(redis: RedisServer | undefined): WarmSetup[] {
  if (!redis) return [...WARM_SETUPS];
  return [...WARM_SETUPS, { name: REDIS_VARIANT, variant: 'handler', prefix: 'warm-redis-', extraEnv: { IDEMPOTENCY_REDIS_URL: redis.url } }];
}

export interface WarmChild {
  setup: WarmSetup;
  child: IpcChild;
}

export function startWarmChild(bench: Bench, setup: WarmSetup): WarmChild {
  const args: WarmArgs = { variant: setup.variant, prefix: setup.prefix, ...withdrawTarget(bench) };
  return { setup, child: new IpcChild(`warm ${setup.name}`, path.join(BUILD, 'bench-warm.js'), [JSON.stringify(args)], bench.env('withdraw', setup.extraEnv)) };
}

/** The store round-trip row's child: the handler, its store behind the latency proxy (bench/store-round-trips.ts). */
export function roundTripChild(bench: Bench) {
  return (prefix: string, extraEnv: Record<string, string>) => startWarmChild(bench, { name: 'handler+redis via proxy', variant: 'handler', prefix, extraEnv }).child;
}

/** What the measured rounds saw, by variant name. */
export interface WarmSamples {
  perCallUs: Record<string, number[]>;
  perCallWallMs: Record<string, number[]>;
  /** Redis commands per round of the store-cost variant. */
  redisCommands: number[];
  maxRssMb: Record<string, number>;
  /** The kernel's count over the same rounds, read from outside: { child's own µs, /proc µs }. */
  crossCheck: Record<string, { childUs: number; procUs: number }>;
}

function emptyWarmSamples(names: string[]): WarmSamples {
  const each = <T>(make: () => T): Record<string, T> => Object.fromEntries(names.map((name) => [name, make()]));
  return { perCallUs: each(() => []), perCallWallMs: each(() => []), redisCommands: [], maxRssMb: {}, crossCheck: each(() => ({ childUs: 0, procUs: 0 })) };
}

/** One round of one variant; the warm-up's rounds (`record` false) leave no sample. */
async function warmTurn({ setup, child }: WarmChild, from: number, count: number, record: boolean, samples: WarmSamples, redis: RedisServer | undefined): Promise<void> {
  const store = setup.name === REDIS_VARIANT ? redis : undefined;
  const before = store ? await commandsProcessed(store.port) : 0;
  const proc0 = procCpuUs(child.pid);
  const reply = await child.ask<RoundReply>({ op: 'round', from, count }, 120_000);
  const proc1 = procCpuUs(child.pid);
  if (record) {
    // Less the INFO that read `before`.
    if (store) samples.redisCommands.push((await commandsProcessed(store.port)) - before - 1);
    if (proc0 !== undefined && proc1 !== undefined) {
      samples.crossCheck[setup.name]!.childUs += reply.cpuUs;
      samples.crossCheck[setup.name]!.procUs += proc1 - proc0;
    }
    samples.perCallUs[setup.name]!.push(reply.cpuUs / reply.calls);
    samples.perCallWallMs[setup.name]!.push(reply.wallMs / reply.calls);
  }
  await sleep(30);
}

/** One child at a time, so that the measured child has a core and the emulator the other. */
export async function warmRounds(children: WarmChild[], redis: RedisServer | undefined): Promise<WarmSamples> {
  const samples = emptyWarmSamples(children.map((c) => c.setup.name));
  await Promise.all(children.map((c) => c.child.ready));
  for (const c of children) await warmTurn(c, 0, WARM_WARMUP, false, samples, redis);
  let next = WARM_WARMUP;
  for (let round = 0; round < WARM_ROUNDS; round++) {
    // Rotated each round: no variant always goes first.
    for (let k = 0; k < children.length; k++) await warmTurn(children[(round + k) % children.length]!, next, WARM_CALLS, true, samples, redis);
    next += WARM_CALLS;
  }
  for (const { setup, child } of children) samples.maxRssMb[setup.name] = Number((await child.ask({ op: 'exit' })).maxRssKb) / 1024;
  return samples;
}
