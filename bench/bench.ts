/**
 * `npm run bench`: the performance budget of DESIGN.md §11 (the contract's §7), every row measured
 * side by side in one run against the OutboundBot emulator on loopback, which runs in a process
 * of its own: only the measured process's CPU counts. Each measured thing runs in a child process
 * of its own too; this process only orchestrates (and idles while they run). Prints a table,
 * writes bench/results.json, exits 1 when a budget is missed (2 when the bench itself failed).
 *
 * CPU is the measured process's own getrusage (process.resourceUsage() / process.cpuUsage(): user
 * + system of every thread, µs resolution), reported by the child; peak RSS is its ru_maxrss at
 * exit. See the `method` block of results.json and docs/PERFORMANCE.md.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { redisInstalled, startRedis, type RedisServer } from '../local/redis-server';
import type { ChildUsage } from './child-report';
import { readDeployment, type DeployedFunction } from './deployment';
import type { RecordsReply, ScriptGroup } from './emulator-process';
import { createInstanceCgroup, type InstanceCgroup } from './fc-instance';
import { IpcChild, killAll, runChild, sleep, type ChildRun } from './processes';
import type { RawTarget } from './raw-request';
import { commandsProcessed } from './redis-info';
import { judged, ms, ratio, spread, us, type Budget, type Row, type Status } from './rows';
import { median, summarize, type Summary } from './stats';
import { ROUND_TRIP_PREFIX, ROUND_TRIP_SEEDED, storeRoundTrips } from './store-round-trips';
import type { RoundReply, WarmArgs, WarmVariant } from './warm-child';

const root = path.resolve(__dirname, '..');
const BUILD = path.join(root, 'build');
const DIST = path.join(root, 'dist');
const WITHDRAW_BUNDLE = path.join(DIST, 'withdraw', 'index.js');
const CLEANUP_BUNDLE = path.join(DIST, 'cleanup', 'index.js');

const int = (name: string, fallback: number, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
  return value;
};
/** Measured cold-start runs (one process of each variant per run), after COLD_DISCARD runs that warm the page cache. */
const COLD_RUNS = int('BENCH_COLD_RUNS', 21, 15);
const COLD_DISCARD = 2;
const WARM_ROUNDS = int('BENCH_WARM_ROUNDS', 11, 3);
const WARM_CALLS = int('BENCH_WARM_CALLS', 250, 20);
/** Past the JIT's plateau: CPU per call keeps falling for the first ~3,000 calls of every variant. */
const WARM_WARMUP = int('BENCH_WARM_WARMUP', 3000, 20);
const CLEANUP_RUNS = int('BENCH_CLEANUP_RUNS', 3);
const BATCH_RUNS = int('BENCH_BATCH_RUNS', 3);
/** The whole bench is killed past this: a hung child never hangs the bench. */
const MAX_SECONDS = int('BENCH_MAX_SECONDS', 540, 60);

const CLEANUP_SCRIPTS = 5_000;
const CLEANUP_STALE = 2_000;
const CLEANUP_LATENCY_MS = 10;
const BATCHES = 5;
const BATCH_SIZE = 100;
const BATCH_LATENCY_MS = 20;
const MB = 1024 * 1024;
/**
 * Without a memory cgroup the budgeted RSS runs are unconstrained, and V8 sizes its young
 * generation from the machine's memory (16 MB semi-spaces on a machine of gigabytes), far more
 * than on a 128 MB instance; then the information run approximates the instance with this flag.
 */
const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=1'];

type Wrap = (command: string, args: string[]) => [string, string[]];

/** The other memory run beside the budgeted one: unconstrained when the budgeted one ran in the cgroup, else the flag. */
function comparisonRun(bench: Bench): { label: string; nodeFlags: string[] } {
  return bench.instance ? { label: 'unconstrained', nodeFlags: [] } : { label: `with ${SMALL_YOUNG_GENERATION.join(' ')}`, nodeFlags: SMALL_YOUNG_GENERATION };
}

// ---------------------------------------------------------------------------------------------
// Setup

const INSTANCE_HOT = 'bench-hot';
const INSTANCE_BATCH = 'bench-batch';
const INSTANCE_CLEANUP = 'bench-cleanup';

interface Bench {
  emulator: IpcChild;
  role: Required<RawTarget>;
  deployed: { withdraw: DeployedFunction; cleanup: DeployedFunction };
  /** The environment a function child gets: the deployed literals, the emulator as endpoint. */
  env(fn: 'withdraw' | 'cleanup', extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A memory cgroup of the deployed size for the memory rows, where this machine allows one. */
  instance?: InstanceCgroup;
}

async function emulatorRecords(bench: Bench): Promise<RecordsReply> {
  return bench.emulator.ask<RecordsReply>({ op: 'records' });
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/**
 * user + system CPU of a live child as the kernel's /proc/<pid>/stat has it, µs, in ticks of
 * 1/CLK_TCK s: too coarse for a cold start, fine as an independent check of a warm round.
 */
function procCpuUs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Cold start

interface ColdSample {
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
}

type ColdVariant = 'handler' | 'raw' | 'client';
/** Each fresh process: the deployed bundle, the hand-signed floor, and the official client alone (bundled as the function is). */
const COLD_CHILDREN: Record<ColdVariant, string> = { handler: 'bench-cold-handler.js', raw: 'bench-cold-raw.js', client: 'bench-cold-client.js' };
const COLD_VARIANTS = Object.keys(COLD_CHILDREN) as ColdVariant[];

/** What every withdraw-side child gets: the role, the hot instance, the bundle, and the deployed function's limits and timeouts. */
function withdrawTarget(bench: Bench) {
  const withdrawEnv = bench.deployed.withdraw.env;
  return {
    role: bench.role,
    instanceId: INSTANCE_HOT,
    bundle: WITHDRAW_BUNDLE,
    fn: bench.deployed.withdraw.fn,
    readTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_READ_TIMEOUT_MS ?? 10_000),
    connectTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_CONNECT_TIMEOUT_MS ?? 3_000),
  };
}

async function coldSamples(bench: Bench): Promise<Record<ColdVariant, ColdSample[]>> {
  const target = withdrawTarget(bench);
  const samples: Record<ColdVariant, ColdSample[]> = { handler: [], raw: [], client: [] };
  const env = bench.env('withdraw');
  for (let i = 0; i < COLD_DISCARD + COLD_RUNS; i++) {
    // Each run starts with another variant: drift and any first-of-run effect hit all alike.
    for (let k = 0; k < COLD_VARIANTS.length; k++) {
      const variant = COLD_VARIANTS[(i + k) % COLD_VARIANTS.length]!;
      const { wallMs, result } = await runChild<ChildUsage>(path.join(BUILD, COLD_CHILDREN[variant]), { ...target, scriptId: `cold-${variant}-${i}` }, env, 20_000);
      if (i >= COLD_DISCARD) samples[variant].push({ wallMs, cpuMs: result.cpuUs / 1000, maxRssMb: result.maxRssKb / 1024 });
    }
  }
  return samples;
}

/** `a` over `b`: the ratio of medians, and the per-run ratios beside it. */
function coldRatio(samples: Record<ColdVariant, ColdSample[]>, a: ColdVariant, b: ColdVariant, key: 'cpuMs' | 'wallMs') {
  const x = summarize(samples[a].map((s) => s[key]));
  const y = summarize(samples[b].map((s) => s[key]));
  const pairwise = summarize(samples[a].map((s, i) => s[key] / samples[b][i]![key]));
  const value = x.median / y.median;
  return { value, x, y, pairwise, measured: `${ratio(value)} = ${spread(x, ms)} / ${spread(y, ms)}, n=${COLD_RUNS} runs; pairwise ${spread(pairwise, ratio)}` };
}

async function coldStart(bench: Bench): Promise<Row[]> {
  const samples = await coldSamples(bench);
  const rows: Row[] = [];
  // Budgeted against the official client alone, bundled the same way (DESIGN §7, rebased 2026-12-01):
  // the mandated transport's own cost is not ours to win back.
  for (const [key, label, limit] of [['cpuMs', 'CPU', 1.3], ['wallMs', 'wall', 1.3]] as const) {
    const r = coldRatio(samples, 'handler', 'client', key);
    const budget: Budget = { op: '<=', limit, text: `≤ ${limit}×` };
    rows.push({
      id: `cold-${label.toLowerCase()}`,
      name: `cold start ${label} (handler / official client alone)`,
      value: r.value,
      unit: '×',
      measured: r.measured,
      budget,
      status: judged(r.value, budget),
      data: { handlerMs: r.x, clientAloneMs: r.y, pairwiseRatio: r.pairwise, samples: { handler: samples.handler.map((s) => s[key]), clientAlone: samples.client.map((s) => s[key]) } },
    });
    for (const [a, b, what] of [['handler', 'raw', 'handler / bare node'], ['client', 'raw', 'official client alone / bare node']] as const) {
      const info = coldRatio(samples, a, b, key);
      rows.push({ id: `cold-${label.toLowerCase()}-${a}-${b}`, name: `  cold start ${label} (${what})`, value: info.value, unit: '×', measured: info.measured, budget: null, status: 'info', data: { medians: [info.x, info.y], pairwiseRatio: info.pairwise } });
    }
  }
  const rss = { handler: summarize(samples.handler.map((s) => s.maxRssMb)), bareNode: summarize(samples.raw.map((s) => s.maxRssMb)) };
  rows.push({
    id: 'cold-rss',
    name: '  cold start peak RSS (information)',
    value: rss.handler.median,
    unit: 'MB',
    measured: `${rss.handler.median.toFixed(1)} MB handler / ${rss.bareNode.median.toFixed(1)} MB bare node`,
    budget: null,
    status: 'info',
    data: rss,
  });
  rows.push(await zodCost());
  return rows;
}

/** zod's share of a cold start, by phase: a fresh process per run, no upstream involved. */
async function zodCost(): Promise<Row> {
  type Phases = { moduleInitMs: number; firstBuildMs: number; firstParseMs: number };
  const runs: Phases[] = [];
  for (let i = 0; i < COLD_RUNS; i++) runs.push((await runChild<Phases>(path.join(BUILD, 'bench-schemas-cold.js'), {}, { PATH: process.env.PATH ?? '' }, 20_000)).result);
  const phase = (key: keyof Phases) => summarize(runs.map((r) => r[key]));
  const phases = { moduleInitMs: phase('moduleInitMs'), firstBuildMs: phase('firstBuildMs'), firstParseMs: phase('firstParseMs') };
  const total = phases.moduleInitMs.median + phases.firstBuildMs.median + phases.firstParseMs.median;
  return {
    id: 'cold-zod',
    name: '  cold start: zod, the schemas and their checks, CPU (information)',
    value: total,
    unit: 'ms',
    measured: `${ms(total)} = module init ${spread(phases.moduleInitMs, ms)} + first build ${spread(phases.firstBuildMs, ms)} + first parse ${spread(phases.firstParseMs, ms)}, n=${COLD_RUNS}`,
    budget: null,
    status: 'info',
    data: phases,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Warm CPU per withdrawal, and 6. the store's cost

interface WarmSetup {
  name: string;
  variant: WarmVariant;
  prefix: string;
  extraEnv?: Record<string, string>;
}

/** The handler with IDEMPOTENCY_REDIS_URL set: measured in the same rounds as the others. */
const REDIS_VARIANT = 'handler+redis';

const WARM_SETUPS: readonly WarmSetup[] = [
  { name: 'handler', variant: 'handler', prefix: 'warm-handler-' },
  { name: 'client', variant: 'client', prefix: 'warm-client-' },
  { name: 'guarded', variant: 'guarded', prefix: 'warm-guarded-' },
  { name: 'raw', variant: 'raw', prefix: 'warm-raw-' },
];

function warmSetups(redis: RedisServer | undefined): WarmSetup[] {
  if (!redis) return [...WARM_SETUPS];
  return [...WARM_SETUPS, { name: REDIS_VARIANT, variant: 'handler', prefix: 'warm-redis-', extraEnv: { IDEMPOTENCY_REDIS_URL: redis.url } }];
}

interface WarmChild {
  setup: WarmSetup;
  child: IpcChild;
}

/** The store round-trip row's child: the handler, its store behind the latency proxy (bench/store-round-trips.ts). */
function roundTripChild(bench: Bench) {
  return (prefix: string, extraEnv: Record<string, string>) => startWarmChild(bench, { name: 'handler+redis via proxy', variant: 'handler', prefix, extraEnv }).child;
}

function startWarmChild(bench: Bench, setup: WarmSetup): WarmChild {
  const args: WarmArgs = { variant: setup.variant, prefix: setup.prefix, ...withdrawTarget(bench) };
  return { setup, child: new IpcChild(`warm ${setup.name}`, path.join(BUILD, 'bench-warm.js'), [JSON.stringify(args)], bench.env('withdraw', setup.extraEnv)) };
}

/** What the measured rounds saw, by variant name. */
interface WarmSamples {
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
async function warmRounds(children: WarmChild[], redis: RedisServer | undefined): Promise<WarmSamples> {
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

async function warm(bench: Bench, redis: RedisServer | undefined): Promise<Row[]> {
  const children = warmSetups(redis).map((setup) => startWarmChild(bench, setup));
  let samples: WarmSamples;
  try {
    samples = await warmRounds(children, redis);
  } finally {
    for (const c of children) c.child.kill();
  }
  const stats = warmStats(samples);
  return [warmCpuRow(stats), ...INFO_RATIOS.map(([a, b, label]) => infoRatioRow(stats, a, b, label)), storeCostRow(stats, redis)];
}

interface Drift {
  firstRoundsUs: number;
  lastRoundsUs: number;
  lastOverFirst: number;
}

/** Rounds at each end compared to say whether a variant was steady. */
const DRIFT_ROUNDS = Math.max(1, Math.floor(WARM_ROUNDS / 3));

function driftOf(perCallUs: number[]): Drift {
  const first = median(perCallUs.slice(0, DRIFT_ROUNDS));
  const last = median(perCallUs.slice(-DRIFT_ROUNDS));
  return { firstRoundsUs: first, lastRoundsUs: last, lastOverFirst: last / first };
}

interface WarmStats {
  samples: WarmSamples;
  cpu: Record<string, Summary>;
  wall: Record<string, Summary>;
  drift: Record<string, Drift>;
  /** A ratio of medians assumes each variant is in a steady state: those that are not. */
  drifting: [string, Drift][];
}

const mapValues = <T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));

function warmStats(samples: WarmSamples): WarmStats {
  const drift = mapValues(samples.perCallUs, driftOf);
  return {
    samples,
    cpu: mapValues(samples.perCallUs, (v) => summarize(v)),
    wall: mapValues(samples.perCallWallMs, (v) => summarize(v)),
    drift,
    drifting: Object.entries(drift).filter(([, d]) => d.lastOverFirst > 1.25 || d.lastOverFirst < 0.8),
  };
}

/** CPU per call of `a` over `b`, round by round. */
const pairwise = ({ samples }: WarmStats, a: string, b: string) => summarize(samples.perCallUs[a]!.map((v, i) => v / samples.perCallUs[b]![i]!));

function driftNote(drifting: [string, Drift][]): string | undefined {
  if (!drifting.length) return undefined;
  const which = drifting.map(([k, d]) => `${k} ${us(d.firstRoundsUs)} in the first ${DRIFT_ROUNDS} rounds, ${us(d.lastRoundsUs)} in the last ${DRIFT_ROUNDS}`);
  return `not steady: ${which.join('; ')} (calls ${WARM_WARMUP}–${WARM_WARMUP + WARM_ROUNDS * WARM_CALLS} of each process)`;
}

const WARM_BUDGET: Budget = { op: '<=', limit: 1.5, text: '≤ 1.5×' };

function warmCpuRow(stats: WarmStats): Row {
  const { samples, cpu } = stats;
  const value = cpu.handler!.median / cpu.client!.median;
  return {
    id: 'warm-cpu',
    name: 'warm CPU / withdrawal (handler / client)',
    value,
    unit: '×',
    measured: `${ratio(value)} = ${spread(cpu.handler!, us)} / ${spread(cpu.client!, us)}, ${WARM_ROUNDS}×${WARM_CALLS} calls; per round ${spread(pairwise(stats, 'handler', 'client'), ratio)}`,
    budget: WARM_BUDGET,
    status: judged(value, WARM_BUDGET),
    data: {
      rounds: WARM_ROUNDS,
      callsPerRound: WARM_CALLS,
      warmupCalls: WARM_WARMUP,
      cpuUsPerCall: cpu,
      wallMsPerCall: stats.wall,
      pairwiseRatio: pairwise(stats, 'handler', 'client'),
      samples: samples.perCallUs,
      peakRssMb: samples.maxRssMb,
      // Child-reported CPU over all rounds / what /proc/<pid>/stat saw from outside (which also holds
      // the round's IPC and input building): close to 1 says the child's own figure is sound.
      procStatCrossCheck: mapValues(samples.crossCheck, (v) => ({ ...v, childOverProc: v.procUs ? v.childUs / v.procUs : null, tickUs: 1e6 / CLK_TCK })),
      drift: stats.drift,
    },
    note: driftNote(stats.drifting),
  };
}

/** Information rows: what the function's own OutboundBot client adds to the official one, and each against the hand-signed request. */
const INFO_RATIOS = [
  ['guarded', 'client', 'function\'s client (transport guard) / client alone'],
  ['handler', 'raw', 'handler / hand-signed request'],
  ['client', 'raw', 'client / hand-signed request'],
] as const;

function infoRatioRow(stats: WarmStats, a: string, b: string, label: string): Row {
  const { cpu } = stats;
  const value = cpu[a]!.median / cpu[b]!.median;
  return {
    id: `warm-cpu-${a}-${b}`,
    name: `  ${label} (information)`,
    value,
    unit: '×',
    measured: `${ratio(value)} = ${spread(cpu[a]!, us)} / ${spread(cpu[b]!, us)}; per round ${spread(pairwise(stats, a, b), ratio)}`,
    budget: null,
    status: 'info',
    data: { cpuUsPerCall: { [a]: cpu[a], [b]: cpu[b] }, pairwiseRatio: pairwise(stats, a, b) },
  };
}

const STORE_COST_NAME = 'store cost: warm CPU, Redis / memory store';

/** 6. The store's cost: the same handler with IDEMPOTENCY_REDIS_URL set, measured in the same rounds. */
function storeCostRow(stats: WarmStats, redis: RedisServer | undefined): Row {
  if (!redis) return { id: 'store-cost', name: STORE_COST_NAME, value: null, unit: '×', measured: 'skipped: redis-server is not installed', budget: null, status: 'skipped', data: {} };
  const { cpu, wall, drift } = stats;
  const value = cpu[REDIS_VARIANT]!.median / cpu.handler!.median;
  const commands = summarize(stats.samples.redisCommands.map((c) => c / WARM_CALLS));
  const used = commands.median > 0;
  return {
    id: 'store-cost',
    name: STORE_COST_NAME,
    value,
    unit: '×',
    measured: `${ratio(value)} = ${spread(cpu[REDIS_VARIANT]!, us)} / ${spread(cpu.handler!, us)}; Redis commands / withdrawal ${commands.median.toFixed(2)}; wall ${spread(wall[REDIS_VARIANT]!, ms)} / ${spread(wall.handler!, ms)}`,
    budget: null,
    status: used ? 'info' : 'not-measurable',
    data: {
      cpuUsPerCall: { redis: cpu[REDIS_VARIANT], memory: cpu.handler },
      wallMsPerCall: { redis: wall[REDIS_VARIANT], memory: wall.handler },
      redisCommandsPerWithdrawal: commands,
      pairwiseRatio: pairwise(stats, REDIS_VARIANT, 'handler'),
      drift: { redis: drift[REDIS_VARIANT], memory: drift.handler },
      redisUrl: redis.url.replace(/:\d+\//, ':<port>/'),
    },
    note: storeCostNote(used, stats.drifting),
  };
}

function storeCostNote(used: boolean, drifting: [string, Drift][]): string | undefined {
  if (!used) return 'the handler sent Redis no command: IDEMPOTENCY_REDIS_URL is not honoured yet, so both variants used the memory store';
  if (drifting.some(([k]) => k === 'handler' || k === REDIS_VARIANT)) return 'a variant is not steady over the rounds (see the warm row): the ratio of medians depends on the window';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// 3b. Five 100-item batches

interface BatchResult extends ChildUsage {
  elapsedMs: number;
  memory: NodeJS.MemoryUsage;
}

/** BATCHES batches of BATCH_SIZE seeded reviews from `from` on, all arriving together. */
function runBatches(bench: Bench, from: number, nodeFlags: string[] = [], wrap?: Wrap): Promise<ChildRun<BatchResult>> {
  const arg = { role: bench.role, instanceId: INSTANCE_BATCH, bundle: WITHDRAW_BUNDLE, fn: bench.deployed.withdraw.fn, prefix: 'batch-', from, batches: BATCHES, size: BATCH_SIZE };
  return runChild<BatchResult>(path.join(BUILD, 'bench-batch.js'), arg, bench.env('withdraw'), 60_000, nodeFlags, wrap);
}

async function batches(bench: Bench): Promise<Row[]> {
  const concurrency = Number(bench.deployed.withdraw.env.BATCH_CONCURRENCY ?? 8);
  await bench.emulator.ask({ op: 'latency', ms: BATCH_LATENCY_MS });
  const runs: { rssMb: number; elapsedMs: number; idealMs: number; records: RecordsReply; cpuMs: number; memory: unknown }[] = [];
  for (let i = 0; i < BATCH_RUNS; i++) {
    await bench.emulator.ask({ op: 'reset' });
    const { result } = await runBatches(bench, i * BATCHES * BATCH_SIZE, [], bench.instance?.wrap);
    const records = await emulatorRecords(bench);
    const withdrawals = records.serviceMs.WithdrawScriptReview;
    if (records.byAction.WithdrawScriptReview !== BATCHES * BATCH_SIZE) throw new Error(`batch run made ${records.byAction.WithdrawScriptReview} withdrawals, not ${BATCHES * BATCH_SIZE}`);
    runs.push({ rssMb: result.maxRssKb / 1024, elapsedMs: result.elapsedMs, idealMs: withdrawals!.sum / concurrency, records, cpuMs: result.cpuUs / 1000, memory: result.memory });
  }
  const comparison = comparisonRun(bench);
  const small = await runBatches(bench, BATCH_RUNS * BATCHES * BATCH_SIZE, comparison.nodeFlags);
  await bench.emulator.ask({ op: 'latency', ms: 0 });
  const rss = summarize(runs.map((r) => r.rssMb));
  const share = summarize(runs.map((r) => r.idealMs / r.elapsedMs));
  const budget: Budget = { op: '<', limit: 96, text: '< 96 MB' };
  const worst = rss.max;
  return [
    {
      id: 'rss-batches',
      name: `peak RSS, ${BATCHES}×${BATCH_SIZE}-item batches (${BATCH_LATENCY_MS} ms)`,
      value: worst,
      unit: 'MB',
      measured: `${worst.toFixed(1)} MB worst of ${BATCH_RUNS} (median ${rss.median.toFixed(1)}, ${rss.min.toFixed(1)}–${rss.max.toFixed(1)})${instanceNote(bench)}; ${(small.result.maxRssKb / 1024).toFixed(1)} MB ${comparison.label}`,
      budget,
      status: judged(worst, budget),
      data: {
        peakRssMb: rss,
        instance: bench.instance ? { kind: bench.instance.kind, limitMb: bench.instance.limitMb } : 'unconstrained',
        comparison: { run: comparison.label, peakRssMb: small.result.maxRssKb / 1024, memoryUsageAtEnd: small.result.memory },
        runs: runs.map((r) => ({ peakRssMb: r.rssMb, elapsedMs: r.elapsedMs, idealMs: r.idealMs, childCpuMs: r.cpuMs, memoryUsageAtEnd: r.memory })),
        concurrency,
        batchesArriveTogether: true,
      },
    },
    {
      id: 'batch-throughput',
      name: '  batch wall vs ideal (information)',
      value: share.median,
      unit: 'share',
      measured: `${(share.median * 100).toFixed(1)}% [${(share.p25 * 100).toFixed(1)}–${(share.p75 * 100).toFixed(1)}] of ideal (${BATCHES * BATCH_SIZE} withdrawals × ${ms(runs[0]!.records.serviceMs.WithdrawScriptReview!.median)} / ${concurrency})`,
      budget: null,
      status: 'info',
      data: { share, emulatorServiceMs: runs.map((r) => r.records.serviceMs) },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// 3a and 4. The cleanup: peak RSS, wall time vs the ideal, listing calls

interface CleanupChildResult extends ChildUsage {
  elapsedMs: number;
  summary: Record<string, unknown>;
  memory: NodeJS.MemoryUsage;
}

const LISTING_ACTIONS = new Set(['ListScripts', 'QueryScriptsByStatus']);

/** 2,000 stale reviews spread through 5,000 scripts; the rest are in states no cleanup touches. */
function cleanupSeed(): ScriptGroup[] {
  const others = CLEANUP_SCRIPTS - CLEANUP_STALE;
  return [
    { prefix: 'stale-exam-', count: (CLEANUP_STALE * 7) / 10, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 3 * 1440 },
    { prefix: 'other-drafted-', count: others / 2, status: 'DRAFTED', ageMinutes: 5 * 1440 },
    { prefix: 'stale-pubexam-', count: (CLEANUP_STALE * 3) / 10, status: 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', ageMinutes: 2 * 1440 },
    { prefix: 'other-published-', count: (others * 2) / 5, status: 'PUBLISHED', ageMinutes: 30 },
    { prefix: 'other-failed-', count: others / 10, status: 'PUBLISH_FAILED', ageMinutes: 2 * 1440 },
  ];
}

interface CleanupSetup {
  name: 'QueryScriptsByStatus enabled' | 'QueryScriptsByStatus disabled';
  short: string;
  /** For row ids. */
  slug: string;
  disabled: string[];
}

const CLEANUP_SETUPS: readonly CleanupSetup[] = [
  { name: 'QueryScriptsByStatus enabled', short: 'QSBS on', slug: 'qsbs-on', disabled: [] },
  { name: 'QueryScriptsByStatus disabled', short: 'QSBS off', slug: 'qsbs-off', disabled: ['QueryScriptsByStatus'] },
];

interface CleanupRun {
  rssMb: number;
  elapsedMs: number;
  idealMs: number;
  listMs: number;
  withdrawMs: number;
  records: RecordsReply;
  summary: Record<string, unknown>;
  cpuMs: number;
  memory: unknown;
}

/** What the cleanup rows are made from. */
interface CleanupTable {
  runs: Record<string, CleanupRun[]>;
  /** Peak RSS of the comparison run (comparisonRun), MB, by setup name. */
  small: Record<string, number>;
  concurrency: number;
  bench: Bench;
}

/** A fresh instance of CLEANUP_SCRIPTS scripts, with the setup's actions disabled. */
async function seedCleanup(bench: Bench, setup: CleanupSetup): Promise<void> {
  await bench.emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_CLEANUP, groups: cleanupSeed() } });
  await bench.emulator.ask({ op: 'disable', actions: setup.disabled });
}

function runCleanupChild(bench: Bench, nodeFlags: string[] = [], wrap?: Wrap): Promise<ChildRun<CleanupChildResult>> {
  const arg = { role: bench.role, instanceId: INSTANCE_CLEANUP, bundle: CLEANUP_BUNDLE, fn: bench.deployed.cleanup.fn, olderThanMinutes: 1440, expect: CLEANUP_STALE };
  return runChild<CleanupChildResult>(path.join(BUILD, 'bench-cleanup.js'), arg, bench.env('cleanup', { CLEANUP_MODE: 'inline' }), 120_000, nodeFlags, wrap);
}

/** Where the budgeted memory runs ran. */
function instanceNote(bench: Bench): string {
  return bench.instance ? ` in a ${bench.instance.limitMb} MB ${bench.instance.kind}` : ', unconstrained (no memory cgroup here)';
}

async function measuredCleanup(bench: Bench, setup: CleanupSetup, concurrency: number): Promise<CleanupRun> {
  await seedCleanup(bench, setup);
  await bench.emulator.ask({ op: 'reset' });
  const { result } = await runCleanupChild(bench, [], bench.instance?.wrap);
  const records = await emulatorRecords(bench);
  // The ideal: the listing pages one after another, the other calls CLEANUP_CONCURRENCY at a
  // time, each taking exactly what the emulator really took to answer it.
  let listMs = 0;
  let otherMs = 0;
  for (const [action, s] of Object.entries(records.serviceMs)) {
    if (LISTING_ACTIONS.has(action)) listMs += s.sum;
    else otherMs += s.sum;
  }
  const withdrawMs = otherMs / concurrency;
  return { rssMb: result.maxRssKb / 1024, elapsedMs: result.elapsedMs, idealMs: listMs + withdrawMs, listMs, withdrawMs, records, summary: result.summary, cpuMs: result.cpuUs / 1000, memory: result.memory };
}

async function cleanup(bench: Bench): Promise<Row[]> {
  const table: CleanupTable = { runs: {}, small: {}, concurrency: Number(bench.deployed.cleanup.env.CLEANUP_CONCURRENCY ?? 8), bench };
  await bench.emulator.ask({ op: 'latency', ms: CLEANUP_LATENCY_MS });
  for (let i = 0; i < CLEANUP_RUNS; i++) {
    for (const setup of i % 2 === 0 ? CLEANUP_SETUPS : [...CLEANUP_SETUPS].reverse()) {
      (table.runs[setup.name] ??= []).push(await measuredCleanup(bench, setup, table.concurrency));
    }
  }
  for (const setup of CLEANUP_SETUPS) {
    await seedCleanup(bench, setup);
    table.small[setup.name] = (await runCleanupChild(bench, comparisonRun(bench).nodeFlags)).result.maxRssKb / 1024;
  }
  await bench.emulator.ask({ op: 'disable', actions: [] });
  await bench.emulator.ask({ op: 'latency', ms: 0 });
  // Each kind of row for every setup, kind by kind.
  return CLEANUP_ROWS.flatMap((row) => CLEANUP_SETUPS.map((setup) => row(setup, table)));
}

const CLEANUP_RSS_BUDGET: Budget = { op: '<', limit: 96, text: '< 96 MB' };

function cleanupRssRow(setup: CleanupSetup, { runs, small, bench }: CleanupTable): Row {
  const r = runs[setup.name]!;
  const rss = summarize(r.map((x) => x.rssMb));
  return {
    id: `rss-cleanup-${setup.slug}`,
    name: `peak RSS, cleanup ${CLEANUP_SCRIPTS}/${CLEANUP_STALE} stale (${setup.short})`,
    value: rss.max,
    unit: 'MB',
    measured: `${rss.max.toFixed(1)} MB worst of ${CLEANUP_RUNS} (median ${rss.median.toFixed(1)}, ${rss.min.toFixed(1)}–${rss.max.toFixed(1)})${instanceNote(bench)}; ${small[setup.name]!.toFixed(1)} MB ${comparisonRun(bench).label}`,
    budget: CLEANUP_RSS_BUDGET,
    status: judged(rss.max, CLEANUP_RSS_BUDGET),
    data: { peakRssMb: rss, instance: bench.instance ? { kind: bench.instance.kind, limitMb: bench.instance.limitMb } : 'unconstrained', comparison: { run: comparisonRun(bench).label, peakRssMb: small[setup.name] }, mode: 'inline', upstreamLatencyMs: CLEANUP_LATENCY_MS, listing: setup.name, memoryUsageAtEnd: r.map((x) => x.memory) },
  };
}

const CLEANUP_WALL_BUDGET: Budget = { op: '>=', limit: 0.9, text: '≥ 90%' };

function cleanupWallRow(setup: CleanupSetup, { runs, concurrency }: CleanupTable): Row {
  const r = runs[setup.name]!;
  const share = summarize(r.map((x) => x.idealMs / x.elapsedMs));
  const elapsed = summarize(r.map((x) => x.elapsedMs));
  const ideal = summarize(r.map((x) => x.idealMs));
  const first = r[0]!.records;
  const listCalls = Object.entries(first.byAction).filter(([a]) => LISTING_ACTIONS.has(a));
  const listCount = listCalls.reduce((n, [, c]) => n + c, 0);
  const listService = listCalls.map(([a]) => first.serviceMs[a]!.median);
  const wsr = first.serviceMs.WithdrawScriptReview;
  const cpu = summarize(r.map((x) => x.cpuMs));
  return {
    id: `cleanup-wall-${setup.slug}`,
    name: `cleanup wall vs ideal (${setup.short})`,
    value: share.median,
    unit: 'share',
    measured: `${(share.median * 100).toFixed(1)}% [${(share.p25 * 100).toFixed(1)}–${(share.p75 * 100).toFixed(1)}]: ideal ${spread(ideal, ms)} / actual ${spread(elapsed, ms)}; ${listCount} list × ${listService.map(ms).join('/')} + ${wsr?.n ?? 0} withdrawals × ${ms(wsr?.median ?? Number.NaN)} / ${concurrency}; child CPU ${(cpu.median / 1000).toFixed(2)} s`,
    budget: CLEANUP_WALL_BUDGET,
    status: judged(share.median, CLEANUP_WALL_BUDGET),
    data: {
      share,
      elapsedMs: elapsed,
      idealMs: ideal,
      childCpuMs: cpu,
      concurrency,
      configuredLatencyMs: CLEANUP_LATENCY_MS,
      emulatorServiceMs: first.serviceMs,
      runs: r.map((x) => ({ elapsedMs: x.elapsedMs, idealMs: x.idealMs, listingMs: x.listMs, withdrawalsMs: x.withdrawMs, childCpuMs: x.cpuMs, summary: x.summary })),
    },
  };
}

function cleanupListingRow(setup: CleanupSetup, { runs }: CleanupTable): Row {
  const r = runs[setup.name]!;
  const outcomes = Object.entries(r[0]!.records.byOutcome).filter(([key]) => LISTING_ACTIONS.has(key.split(' ')[0]!));
  const counts = r.map((x) => Object.entries(x.records.byAction).filter(([a]) => LISTING_ACTIONS.has(a)).reduce((n, [, c]) => n + c, 0));
  const text = outcomes.map(([key, n]) => {
    const [action, status, code] = key.split(' ');
    return `${action} ×${n}${status === '200' ? '' : ` (${status} ${code})`}`;
  });
  return {
    id: `cleanup-listing-${setup.slug}`,
    name: `  cleanup listing calls (${setup.short})`,
    value: median(counts),
    unit: 'calls',
    measured: `${median(counts)} calls: ${text.join(' + ')}${new Set(counts).size > 1 ? ` (varied: ${counts.join(', ')})` : ''}`,
    budget: null,
    status: 'info',
    data: { calls: counts, byOutcome: Object.fromEntries(outcomes), expectedWithQueryScriptsByStatus: CLEANUP_STALE / 100, expectedWithListScripts: CLEANUP_SCRIPTS / 100 },
  };
}

/** The calls a cleanup of CLEANUP_SCRIPTS scripts with CLEANUP_STALE stale reviews must make, by action: no more, no fewer. */
function expectedCleanupCalls(setup: CleanupSetup): Record<string, number> {
  const withdrawals = { WithdrawScriptReview: CLEANUP_STALE };
  if (setup.disabled.includes('QueryScriptsByStatus')) return { ...withdrawals, QueryScriptsByStatus: 1, ListScripts: CLEANUP_SCRIPTS / 100 };
  return { ...withdrawals, QueryScriptsByStatus: CLEANUP_STALE / 100 };
}

const CLEANUP_CALLS_BUDGET: Budget = { op: '<=', limit: 0, text: 'exactly' };

/**
 * The wall row's ideal is built from the calls the run made, so a run that made extra calls (a
 * DescribeScript per withdrawal, ListScripts where QueryScriptsByStatus works) would move both
 * sides of it: the calls themselves are budgeted here, run by run.
 */
function cleanupCallsRow(setup: CleanupSetup, { runs, concurrency }: CleanupTable): Row {
  const expected = expectedCleanupCalls(setup);
  const offBy = (byAction: Record<string, number>) =>
    [...new Set([...Object.keys(expected), ...Object.keys(byAction)])].reduce((n, action) => n + Math.abs((byAction[action] ?? 0) - (expected[action] ?? 0)), 0);
  const perRun = runs[setup.name]!.map((x) => x.records.byAction);
  // A limiter that lets through more, or fewer, than CLEANUP_CONCURRENCY is off as well.
  const inFlight = runs[setup.name]!.map((x) => x.records.maxInFlight.WithdrawScriptReview ?? 0);
  const worst = Math.max(...perRun.map(offBy), ...inFlight.map((n) => Math.abs(n - concurrency)));
  return {
    id: `cleanup-calls-${setup.slug}`,
    name: `cleanup calls, every run (${setup.short})`,
    value: worst,
    unit: 'calls off',
    measured: `${worst === 0 ? 'as expected' : `${worst} off`}: ${Object.entries(expected).map(([a, n]) => `${a} ${n}`).join(', ')} and ${concurrency} withdrawals in flight expected; made ${perRun.map((r) => JSON.stringify(r)).join(' | ')}, in flight at most ${inFlight.join('/')}`,
    budget: CLEANUP_CALLS_BUDGET,
    status: judged(worst, CLEANUP_CALLS_BUDGET),
    data: { expected, perRun, maxWithdrawalsInFlight: inFlight, concurrency },
  };
}

/** The cleanup's rows, in this order for every setup. */
const CLEANUP_ROWS = [cleanupRssRow, cleanupWallRow, cleanupCallsRow, cleanupListingRow];

// ---------------------------------------------------------------------------------------------
// The cleanup at scale (issue #24): a listing that cannot finish in the function's time.

const SCALE_SCRIPTS = 100_000;
const SCALE_STALE = 5_000;
const SCALE_LATENCY_MS = 25;
const SCALE_TIMEOUT_S = 20;
const INSTANCE_SCALE = 'bench-scale';

/** 5,000 stale reviews spread through 100,000 scripts, listed with ListScripts (QueryScriptsByStatus refused), 25 ms a call, a 20 s function. */
async function scaleCleanup(bench: Bench): Promise<Row[]> {
  // One stale review in every 20 scripts, through the whole listing (the groups interleave round-robin).
  const perStale = SCALE_SCRIPTS / SCALE_STALE;
  const groups: ScriptGroup[] = [
    { prefix: 'scale-stale-', count: SCALE_STALE, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 3 * 1440 },
    ...Array.from({ length: perStale - 1 }, (_, k) => ({ prefix: `scale-drafted-${k}-`, count: SCALE_STALE, status: 'DRAFTED', ageMinutes: 5 * 1440 })),
  ];
  const fn = { ...bench.deployed.cleanup.fn, timeout: SCALE_TIMEOUT_S };
  const rows: Row[] = [];
  for (const dryRun of [false, true]) {
    await bench.emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_SCALE, groups } });
    await bench.emulator.ask({ op: 'disable', actions: ['QueryScriptsByStatus'] });
    await bench.emulator.ask({ op: 'latency', ms: SCALE_LATENCY_MS });
    const arg = { role: bench.role, instanceId: INSTANCE_SCALE, bundle: CLEANUP_BUNDLE, fn, olderThanMinutes: 1440, expect: 'scale', dryRun };
    const { result } = await runChild<CleanupChildResult>(path.join(BUILD, 'bench-cleanup.js'), arg, bench.env('cleanup', { CLEANUP_MODE: 'inline' }), 60_000, [], bench.instance?.wrap);
    rows.push(scaleRow(bench, dryRun, result));
  }
  await bench.emulator.ask({ op: 'disable', actions: [] });
  await bench.emulator.ask({ op: 'latency', ms: 0 });
  return rows;
}

function scaleRow(bench: Bench, dryRun: boolean, result: CleanupChildResult): Row {
  const rssMb = result.maxRssKb / 1024;
  const s = result.summary as Record<string, number | boolean | undefined>;
  const acted = dryRun ? `${s.Selected} selected, ${s.CandidatesNotListed ?? 0} of them counted not listed` : `${s.Withdrawn} withdrawn, ${s.Failed} failed`;
  return {
    id: `cleanup-scale${dryRun ? '-dry-run' : ''}`,
    name: `cleanup at ${SCALE_SCRIPTS / 1000}k scripts, ${SCALE_TIMEOUT_S} s function${dryRun ? ', dry run, no cap' : ''}: peak RSS`,
    value: rssMb,
    unit: 'MB',
    measured: `${rssMb.toFixed(1)} MB${instanceNote(bench)}; ${s.Pages} of ${Number(s.TotalCount) / 100} pages read in ${((s.durationMs as number) / 1000).toFixed(1)} s, ${s.Listed} listed of ${s.TotalCount}, ${acted}, Truncated ${s.Truncated}; answer ${((s.answerBytes as number) / 1024).toFixed(0)} KB`,
    budget: CLEANUP_RSS_BUDGET,
    status: judged(rssMb, CLEANUP_RSS_BUDGET),
    data: { peakRssMb: rssMb, summary: result.summary, scripts: SCALE_SCRIPTS, stale: SCALE_STALE, latencyMs: SCALE_LATENCY_MS, timeoutSeconds: SCALE_TIMEOUT_S },
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Sizes

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** The folder zipped as `s deploy` uploads it; without `zip`, an estimate from deflate plus headers. */
function zippedBytes(dir: string): { bytes: number; how: string } {
  const zip = spawnSync('zip', ['-q', '-r', '-X', '-', '.'], { cwd: dir, maxBuffer: 64 * MB });
  if (zip.status === 0) return { bytes: zip.stdout.length, how: 'zip -r' };
  let total = 22;
  for (const file of filesUnder(dir)) {
    const name = path.relative(dir, file);
    total += deflateRawSync(readFileSync(file), { level: 6 }).length + 30 + 46 + 2 * name.length;
  }
  return { bytes: total, how: 'estimated (no zip binary)' };
}

function sizes(): Row[] {
  return readdirSync(DIST)
    .filter((name) => statSync(path.join(DIST, name)).isDirectory())
    .map((name) => {
      const dir = path.join(DIST, name);
      const { bytes, how } = zippedBytes(dir);
      const raw = filesUnder(dir).reduce((n, f) => n + statSync(f).size, 0);
      const budget: Budget = { op: '<', limit: 1024, text: '< 1 MB' };
      const kb = bytes / 1024;
      return {
        id: `size-${name}`,
        name: `dist/${name} zipped`,
        value: kb,
        unit: 'KB',
        measured: `${kb.toFixed(1)} KB (${(raw / 1024).toFixed(1)} KB unzipped, ${filesUnder(dir).length} files)`,
        budget,
        status: judged(kb, budget),
        data: { zippedBytes: bytes, unzippedBytes: raw, how },
      };
    });
}

// ---------------------------------------------------------------------------------------------

function printTable(rows: Row[]): void {
  const tag: Record<Status, string> = { pass: 'ok  ', fail: 'MISS', info: '    ', skipped: 'skip', 'not-measurable': 'n/a ' };
  const width = Math.max(...rows.map((r) => r.name.length));
  const bwidth = Math.max(...rows.map((r) => (r.budget?.text ?? '').length));
  for (const r of rows) {
    process.stdout.write(`${tag[r.status]}  ${r.name.padEnd(width)}  ${(r.budget?.text ?? '').padEnd(bwidth)}  ${r.measured}\n`);
    if (r.note) process.stdout.write(`${' '.repeat(6 + width + 2 + bwidth + 2)}(${r.note})\n`);
  }
}

type Deployed = Bench['deployed'];

/** A function child's environment: the deployed literals, the emulator as endpoint, Redis only when asked for. */
function childEnv(deployed: Deployed, fn: 'withdraw' | 'cleanup', extra: Record<string, string> = {}, endpoint = ''): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...deployed[fn].env, OUTBOUNDBOT_ENDPOINT: endpoint, OUTBOUNDBOT_PROTOCOL: 'http', ...extra };
  if (!extra.IDEMPOTENCY_REDIS_URL) delete env.IDEMPOTENCY_REDIS_URL;
  return env;
}

/** A fresh STS-shaped role for this run, known to the emulator only. */
function benchRole(endpoint: string): Required<RawTarget> {
  return {
    endpoint,
    accessKeyId: `STS.Bench${randomBytes(6).toString('hex')}`,
    accessKeySecret: randomBytes(24).toString('base64'),
    securityToken: `CAIS${randomBytes(48).toString('base64')}`,
  };
}

const review = (prefix: string, count: number): ScriptGroup => ({ prefix, count, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 0 });

/** Every review the cold, warm and batch runs withdraw, each exactly once. */
async function seedReviews(emulator: IpcChild): Promise<void> {
  const warmIds = WARM_WARMUP + WARM_ROUNDS * WARM_CALLS;
  const hot = [
    ...COLD_VARIANTS.map((variant) => review(`cold-${variant}-`, COLD_DISCARD + COLD_RUNS)),
    ...['handler', 'client', 'guarded', 'raw', 'redis'].map((v) => review(`warm-${v}-`, warmIds)),
    review(ROUND_TRIP_PREFIX, ROUND_TRIP_SEEDED),
  ];
  await emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_HOT, groups: hot } });
  await emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_BATCH, groups: [review('batch-', (BATCH_RUNS + 1) * BATCHES * BATCH_SIZE)] } });
}

async function setUpBench(emulator: IpcChild, deployed: Deployed): Promise<Bench> {
  const { endpoint } = (await emulator.ready) as { endpoint: string };
  const role = benchRole(endpoint);
  await emulator.ask({ op: 'credential', credential: role });
  await seedReviews(emulator);
  return { emulator, role, deployed, env: (fn, extra) => childEnv(deployed, fn, extra, endpoint) };
}

/** BENCH_ONLY=warm,store round trips: only the sections named (for working on one row; a partial run writes a partial results.json). */
const ONLY = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());

async function section(name: string, run: () => Promise<Row[]>): Promise<Row[]> {
  if (ONLY && !ONLY.includes(name)) return [];
  const t0 = Date.now();
  process.stderr.write(`bench: ${name}…`);
  const rows = await run();
  process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return rows;
}

/** Rows in the order of the budget: cold, warm, memory, cleanup wall, sizes, store cost (by id prefix). */
const ROW_ORDER = ['cold', 'warm', 'rss-cleanup', 'rss-batches', 'batch', 'cleanup-wall', 'cleanup-calls', 'cleanup-listing', 'cleanup-scale', 'size', 'store'];

async function measureAll(bench: Bench, redis: RedisServer | undefined): Promise<Row[]> {
  const rows = [
    ...(await section('cold start', () => coldStart(bench))),
    ...(await section('warm CPU', () => warm(bench, redis))),
    ...(await section('store round trips', () => storeRoundTrips(roundTripChild(bench), redis))),
    ...(await section('batches', () => batches(bench))),
    ...(await section('cleanup', () => cleanup(bench))),
    ...(await section('cleanup at scale', () => scaleCleanup(bench))),
    ...sizes(),
  ];
  return rows.sort((a, b) => ROW_ORDER.findIndex((p) => a.id.startsWith(p)) - ROW_ORDER.findIndex((p) => b.id.startsWith(p)));
}

/** The `method` block of results.json: how each figure is taken. */
const METHOD = {
  processes:
    'The emulator runs in a process of its own; every measured thing runs in a fresh child of its own (cold: one per run; warm: one per variant, alive for all rounds); the parent only orchestrates. One measured child runs at a time, so on 2 cores the emulator and the measured child each have one.',
  cpu:
    "Reported by the measured child itself: process.resourceUsage() (cold start; getrusage(RUSAGE_SELF): user + system of every thread since exec, µs resolution) taken when its work is done, just before process.exit; process.cpuUsage() deltas around a block of calls (warm). Not /proc/<pid>/stat: its utime/stime are in clock ticks (CLK_TCK = 100, i.e. 10 ms), the size of what a cold start costs, and it can only be read while the child is alive, which needs the child's cooperation anyway. Not counted: the few syscalls of process exit after the report, the same in both variants.",
  wall: 'Cold start: from spawn() to the exit event in the parent (exec, bootstrap, bundle load, the request, exit). Warm: performance.now() around the block of calls in the child. Cleanup and batches: performance.now() around the handler call(s) in the child.',
  cpuCrossCheck:
    'Warm rounds are also read from outside, /proc/<pid>/stat utime+stime before and after each round (10 ms ticks, fine over a round of ~0.1–0.5 s): warm-cpu.procStatCrossCheck.childOverProc near 1 says the child-reported figure is sound.',
  warmSteadyState: `Each warm process first makes ${WARM_WARMUP} unmeasured calls (CPU per call keeps falling for ~3,000 calls while the JIT tiers up); a variant whose median CPU per call in the last third of the rounds differs from the first third by more than 25% is flagged on the row (warm-cpu.drift).`,
  rss: `Peak RSS = the child's process.resourceUsage().maxRSS (getrusage ru_maxrss, KB) when its work is done; the budget applies to the worst run. The budgeted runs execute in a memory cgroup of the function's memorySize from s.yaml where the machine allows one (root, writable cgroup fs): Node then sizes its heap from the constrained memory as on an FC instance, and going over the limit kills the run. One more run beside it, for information: unconstrained (V8 sizing the young generation from this machine's memory), or, without a cgroup, with ${SMALL_YOUNG_GENERATION.join(' ')} to approximate the instance.`,
  ideal:
    "The emulator's real service time per request (from the request's headers being parsed to the answer being handed to the kernel: configured latency, timer lateness, its own work and queueing), taken through node:diagnostics_channel (http.server.request.start / http.server.response.finish) in the emulator process. Ideal = the listing calls' service times one after another + the other calls' service times / the configured concurrency.",
  statistics: 'Medians with [p25–p75]; ratios are ratios of medians, pairwise (per run pair or per round) ratios are reported beside them. Cold runs and warm rounds rotate the variants.',
};

function benchConfig(deployed: Deployed, redis: RedisServer | undefined) {
  return {
    coldRuns: COLD_RUNS,
    coldDiscardedRuns: COLD_DISCARD,
    warm: { rounds: WARM_ROUNDS, callsPerRound: WARM_CALLS, warmupCalls: WARM_WARMUP, event: 'direct invocation {InstanceId, ScriptId} as a Buffer, FC 3.0 context', upstreamLatencyMs: 0 },
    batches: { runs: BATCH_RUNS, batches: BATCHES, size: BATCH_SIZE, upstreamLatencyMs: BATCH_LATENCY_MS, concurrency: Number(deployed.withdraw.env.BATCH_CONCURRENCY ?? 8) },
    cleanup: { runs: CLEANUP_RUNS, scripts: CLEANUP_SCRIPTS, stale: CLEANUP_STALE, upstreamLatencyMs: CLEANUP_LATENCY_MS, concurrency: Number(deployed.cleanup.env.CLEANUP_CONCURRENCY ?? 8), mode: 'inline' },
    functions: { withdraw: deployed.withdraw.fn, cleanup: deployed.cleanup.fn },
    redis: redis ? 'redis-server on a free loopback port' : 'not installed',
  };
}

/** A row as results.json has it: its data flattened in, the budget's pass or fail spelled out. */
function resultRow({ id, name, value, unit, budget, status, measured, note, data }: Row) {
  return {
    id,
    name: name.trim(),
    value,
    unit,
    budget: budget ? { op: budget.op, limit: budget.limit, unit } : null,
    pass: budget ? status === 'pass' : null,
    status,
    measured,
    ...(note ? { note } : {}),
    ...data,
  };
}

function benchResults(rows: Row[], startedMs: number, deployed: Deployed, redis: RedisServer | undefined) {
  return {
    date: new Date().toISOString(),
    ok: rows.every((r) => r.status !== 'fail'),
    durationSeconds: (Date.now() - startedMs) / 1000,
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / MB) },
    method: METHOD,
    config: benchConfig(deployed, redis),
    rows: rows.map(resultRow),
  };
}

async function main(): Promise<number> {
  for (const file of [WITHDRAW_BUNDLE, CLEANUP_BUNDLE]) if (!existsSync(file)) throw new Error(`${path.relative(root, file)} is missing: run npm run build`);
  const started = Date.now();
  const deployed = readDeployment(root);
  const emulator = new IpcChild('emulator', path.join(BUILD, 'bench-emulator.js'), [], { PATH: process.env.PATH });
  let redis: RedisServer | undefined;
  let instance: InstanceCgroup | undefined;
  try {
    instance = createInstanceCgroup(deployed.cleanup.fn.memory);
    const bench = { ...(await setUpBench(emulator, deployed)), instance };
    if (redisInstalled()) redis = await startRedis();
    const rows = await measureAll(bench, redis);
    await emulator.ask({ op: 'close' });

    printTable(rows);
    const results = benchResults(rows, started, deployed, redis);
    writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${results.ok ? 'all budgets met' : 'BUDGET MISSED'}; ${results.durationSeconds.toFixed(0)} s; results written to bench/results.json\n`);
    return results.ok ? 0 : 1;
  } finally {
    await redis?.stop();
    emulator.kill();
    killAll();
    instance?.remove();
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench failed: still running after ${MAX_SECONDS} s\n`);
  killAll();
  process.exit(2);
}, MAX_SECONDS * 1000);
watchdog.unref();

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`\nbench failed: ${error.stack ?? error.message}\n`);
    killAll();
    process.exit(2);
  },
);
