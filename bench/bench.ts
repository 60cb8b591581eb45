/**
 * `npm run bench`: the performance budget of DESIGN.md §11 (the contract's §7), every row measured
 * side by side in one run against the OutboundBot emulator on loopback, which runs in a process
 * of its own: only the measured process's CPU counts. Each measured thing runs in a child process
 * of its own too; this process only orchestrates (and idles while they run). Prints a table,
 * writes bench/results.json, exits 1 when a budget is missed (2 when the bench itself failed).
 *
 * CPU is the measured process's own getrusage (process.resourceUsage() / process.cpuUsage(): user
 * + system of every thread, µs resolution), reported by the child; peak RSS is its ru_maxrss at
 * exit. See the `method` block of results.json and README.md "Performance".
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { ChildUsage } from './child-report';
import { readDeployment, type DeployedFunction } from './deployment';
import type { RecordsReply, ScriptGroup } from './emulator-process';
import type { FunctionSpec } from './fc-context';
import { IpcChild, killAll, runChild, sleep, type ChildRun } from './processes';
import type { RawTarget } from './raw-request';
import { redisInstalled, startRedis, type BenchRedis } from './redis-server';
import { median, summarize, type Summary } from './stats';
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
/** Measured cold-start pairs (handler, bare node), after COLD_DISCARD pairs that warm the page cache. */
const COLD_PAIRS = int('BENCH_COLD_RUNS', 21, 15);
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
 * The informational RSS re-runs: V8 sizes its young generation from the machine's memory (16 MB
 * semi-spaces on a machine of gigabytes), far more than it would give itself on a 128 MB instance.
 */
const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=1'];

// ---------------------------------------------------------------------------------------------
// Rows

type Status = 'pass' | 'fail' | 'info' | 'skipped' | 'not-measurable';

interface Budget {
  op: '<=' | '<' | '>=';
  limit: number;
  text: string;
}

interface Row {
  id: string;
  name: string;
  /** The figure the budget applies to (a ratio, MB, a share…). */
  value: number | null;
  unit: string;
  /** One line for the table: the medians and their spread. */
  measured: string;
  budget: Budget | null;
  status: Status;
  /** Everything behind the figure: medians, spreads, samples, counts. */
  data: Record<string, unknown>;
  note?: string;
}

function judged(value: number, budget: Budget): Status {
  const ok = budget.op === '<=' ? value <= budget.limit : budget.op === '<' ? value < budget.limit : value >= budget.limit;
  return ok ? 'pass' : 'fail';
}

const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const us = (v: number) => `${v.toFixed(0)} µs`;
const spread = (s: Summary, fmt: (v: number) => string) => `${fmt(s.median)} [${fmt(s.p25)}–${fmt(s.p75)}]`;
const ratio = (v: number) => `${v.toFixed(3)}×`;

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

async function coldStart(bench: Bench): Promise<Row[]> {
  const target = { role: bench.role, instanceId: INSTANCE_HOT };
  const handler: ColdSample[] = [];
  const raw: ColdSample[] = [];
  const sample = ({ wallMs, result }: ChildRun<ChildUsage>): ColdSample => ({ wallMs, cpuMs: result.cpuUs / 1000, maxRssMb: result.maxRssKb / 1024 });
  const env = bench.env('withdraw');
  for (let i = 0; i < COLD_DISCARD + COLD_PAIRS; i++) {
    const runHandler = () => runChild<ChildUsage>(path.join(BUILD, 'bench-cold-handler.js'), { ...target, bundle: WITHDRAW_BUNDLE, scriptId: `cold-h-${i}`, fn: bench.deployed.withdraw.fn }, env, 20_000);
    const runRaw = () => runChild<ChildUsage>(path.join(BUILD, 'bench-cold-raw.js'), { ...target, scriptId: `cold-r-${i}` }, env, 20_000);
    // A/B, then B/A: drift and any first-of-pair effect hit both alike.
    let h: ChildRun<ChildUsage>;
    let r: ChildRun<ChildUsage>;
    if (i % 2 === 0) {
      h = await runHandler();
      r = await runRaw();
    } else {
      r = await runRaw();
      h = await runHandler();
    }
    if (i < COLD_DISCARD) continue;
    handler.push(sample(h));
    raw.push(sample(r));
  }
  const rows: Row[] = [];
  for (const [key, label, limit] of [['cpuMs', 'CPU', 1.25], ['wallMs', 'wall', 1.3]] as const) {
    const h = summarize(handler.map((s) => s[key]));
    const r = summarize(raw.map((s) => s[key]));
    const pairRatios = summarize(handler.map((s, i) => s[key] / raw[i]![key]));
    const value = h.median / r.median;
    const budget: Budget = { op: '<=', limit, text: `≤ ${limit}×` };
    rows.push({
      id: `cold-${label.toLowerCase()}`,
      name: `cold start ${label} (handler / bare node)`,
      value,
      unit: '×',
      measured: `${ratio(value)} = ${spread(h, ms)} / ${spread(r, ms)}, n=${COLD_PAIRS} pairs; pairwise ${spread(pairRatios, ratio)}`,
      budget,
      status: judged(value, budget),
      data: { handlerMs: h, bareNodeMs: r, pairwiseRatio: pairRatios, samples: { handler: handler.map((s) => s[key]), bareNode: raw.map((s) => s[key]) } },
    });
  }
  const rss = { handler: summarize(handler.map((s) => s.maxRssMb)), bareNode: summarize(raw.map((s) => s.maxRssMb)) };
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
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 2. Warm CPU per withdrawal, and 6. the store's cost

interface WarmSetup {
  name: string;
  variant: WarmVariant;
  prefix: string;
  extraEnv?: Record<string, string>;
}

async function warm(bench: Bench, redis: BenchRedis | undefined): Promise<Row[]> {
  const setups: WarmSetup[] = [
    { name: 'handler', variant: 'handler', prefix: 'warm-handler-' },
    { name: 'client', variant: 'client', prefix: 'warm-client-' },
    { name: 'raw', variant: 'raw', prefix: 'warm-raw-' },
  ];
  if (redis) setups.push({ name: 'handler+redis', variant: 'handler', prefix: 'warm-redis-', extraEnv: { IDEMPOTENCY_REDIS_URL: redis.url } });
  const withdrawEnv = bench.deployed.withdraw.env;
  const children = setups.map((s) => {
    const args: WarmArgs = {
      variant: s.variant,
      prefix: s.prefix,
      role: bench.role,
      instanceId: INSTANCE_HOT,
      bundle: WITHDRAW_BUNDLE,
      fn: bench.deployed.withdraw.fn,
      readTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_READ_TIMEOUT_MS ?? 10_000),
      connectTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_CONNECT_TIMEOUT_MS ?? 3_000),
    };
    return { setup: s, child: new IpcChild(`warm ${s.name}`, path.join(BUILD, 'bench-warm.js'), [JSON.stringify(args)], bench.env('withdraw', s.extraEnv)) };
  });
  const perCallUs: Record<string, number[]> = Object.fromEntries(setups.map((s) => [s.name, []]));
  const perCallWallMs: Record<string, number[]> = Object.fromEntries(setups.map((s) => [s.name, []]));
  const redisCommands: number[] = [];
  const maxRssMb: Record<string, number> = {};
  // The kernel's count over the same rounds, read from outside: { child's own µs, /proc µs }.
  const crossCheck: Record<string, { childUs: number; procUs: number }> = Object.fromEntries(setups.map((s) => [s.name, { childUs: 0, procUs: 0 }]));
  try {
    await Promise.all(children.map((c) => c.child.ready));
    let next = 0;
    // One at a time, so that the measured child has a core and the emulator the other.
    const turn = async ({ setup, child }: (typeof children)[number], count: number, record: boolean) => {
      const before = setup.name === 'handler+redis' ? await redis!.commandsProcessed() : 0;
      const proc0 = procCpuUs(child.pid);
      const reply = await child.ask<RoundReply>({ op: 'round', from: next, count }, 120_000);
      const proc1 = procCpuUs(child.pid);
      if (setup.name === 'handler+redis' && record) redisCommands.push((await redis!.commandsProcessed()) - before - 1);
      if (record && proc0 !== undefined && proc1 !== undefined) {
        crossCheck[setup.name]!.childUs += reply.cpuUs;
        crossCheck[setup.name]!.procUs += proc1 - proc0;
      }
      if (record) {
        perCallUs[setup.name]!.push(reply.cpuUs / reply.calls);
        perCallWallMs[setup.name]!.push(reply.wallMs / reply.calls);
      }
      await sleep(30);
    };
    for (const c of children) await turn(c, WARM_WARMUP, false);
    next += WARM_WARMUP;
    for (let round = 0; round < WARM_ROUNDS; round++) {
      // Rotated each round: no variant always goes first.
      for (let k = 0; k < children.length; k++) await turn(children[(round + k) % children.length]!, WARM_CALLS, true);
      next += WARM_CALLS;
    }
    for (const { setup, child } of children) maxRssMb[setup.name] = Number((await child.ask({ op: 'exit' })).maxRssKb) / 1024;
  } finally {
    for (const c of children) c.child.kill();
  }

  const cpu = Object.fromEntries(Object.entries(perCallUs).map(([k, v]) => [k, summarize(v)]));
  // A ratio of medians assumes each variant is in a steady state; say so when one is not.
  const third = Math.max(1, Math.floor(WARM_ROUNDS / 3));
  const drift = Object.fromEntries(
    Object.entries(perCallUs).map(([k, v]) => [k, { firstRoundsUs: median(v.slice(0, third)), lastRoundsUs: median(v.slice(-third)), lastOverFirst: median(v.slice(-third)) / median(v.slice(0, third)) }]),
  );
  const drifting = Object.entries(drift).filter(([, d]) => d.lastOverFirst > 1.25 || d.lastOverFirst < 0.8);
  const driftNote = drifting.length
    ? `not steady: ${drifting.map(([k, d]) => `${k} ${us(d.firstRoundsUs)} in the first ${third} rounds, ${us(d.lastRoundsUs)} in the last ${third}`).join('; ')} (calls ${WARM_WARMUP}–${WARM_WARMUP + WARM_ROUNDS * WARM_CALLS} of each process)`
    : undefined;
  const wall = Object.fromEntries(Object.entries(perCallWallMs).map(([k, v]) => [k, summarize(v)]));
  const pairwise = (a: string, b: string) => summarize(perCallUs[a]!.map((v, i) => v / perCallUs[b]![i]!));
  const common = { rounds: WARM_ROUNDS, callsPerRound: WARM_CALLS, warmupCalls: WARM_WARMUP };
  const rows: Row[] = [];
  const budget: Budget = { op: '<=', limit: 1.15, text: '≤ 1.15×' };
  const handlerVsClient = cpu.handler!.median / cpu.client!.median;
  rows.push({
    id: 'warm-cpu',
    name: 'warm CPU / withdrawal (handler / client)',
    value: handlerVsClient,
    unit: '×',
    measured: `${ratio(handlerVsClient)} = ${spread(cpu.handler!, us)} / ${spread(cpu.client!, us)}, ${WARM_ROUNDS}×${WARM_CALLS} calls; per round ${spread(pairwise('handler', 'client'), ratio)}`,
    budget,
    status: judged(handlerVsClient, budget),
    data: {
      ...common,
      cpuUsPerCall: cpu,
      wallMsPerCall: wall,
      pairwiseRatio: pairwise('handler', 'client'),
      samples: perCallUs,
      peakRssMb: maxRssMb,
      // Child-reported CPU over all rounds / what /proc/<pid>/stat saw from outside (which also holds
      // the round's IPC and input building): close to 1 says the child's own figure is sound.
      procStatCrossCheck: Object.fromEntries(Object.entries(crossCheck).map(([k, v]) => [k, { ...v, childOverProc: v.procUs ? v.childUs / v.procUs : null, tickUs: 1e6 / CLK_TCK }])),
      drift,
    },
    note: driftNote,
  });
  for (const [a, b] of [['handler', 'raw'], ['client', 'raw']] as const) {
    const value = cpu[a]!.median / cpu[b]!.median;
    rows.push({
      id: `warm-cpu-${a}-raw`,
      name: `  ${a} / hand-signed request (information)`,
      value,
      unit: '×',
      measured: `${ratio(value)} = ${spread(cpu[a]!, us)} / ${spread(cpu[b]!, us)}; per round ${spread(pairwise(a, b), ratio)}`,
      budget: null,
      status: 'info',
      data: { cpuUsPerCall: { [a]: cpu[a], [b]: cpu[b] }, pairwiseRatio: pairwise(a, b) },
    });
  }

  // 6. The store's cost: the same handler with IDEMPOTENCY_REDIS_URL set, measured in the same rounds.
  if (!redis) {
    rows.push({
      id: 'store-cost',
      name: 'store cost: warm CPU, Redis / memory store',
      value: null,
      unit: '×',
      measured: 'skipped: redis-server is not installed',
      budget: null,
      status: 'skipped',
      data: {},
    });
  } else {
    const value = cpu['handler+redis']!.median / cpu.handler!.median;
    const commands = summarize(redisCommands.map((c) => c / WARM_CALLS));
    const used = commands.median > 0;
    rows.push({
      id: 'store-cost',
      name: 'store cost: warm CPU, Redis / memory store',
      value,
      unit: '×',
      measured: `${ratio(value)} = ${spread(cpu['handler+redis']!, us)} / ${spread(cpu.handler!, us)}; Redis commands / withdrawal ${commands.median.toFixed(2)}; wall ${spread(wall['handler+redis']!, ms)} / ${spread(wall.handler!, ms)}`,
      budget: null,
      status: used ? 'info' : 'not-measurable',
      data: {
        cpuUsPerCall: { redis: cpu['handler+redis'], memory: cpu.handler },
        wallMsPerCall: { redis: wall['handler+redis'], memory: wall.handler },
        redisCommandsPerWithdrawal: commands,
        pairwiseRatio: pairwise('handler+redis', 'handler'),
        drift: { redis: drift['handler+redis'], memory: drift.handler },
        redisUrl: redis.url.replace(/:\d+\//, ':<port>/'),
      },
      note: !used
        ? 'the handler sent Redis no command: IDEMPOTENCY_REDIS_URL is not honoured yet, so both variants used the memory store'
        : drifting.some(([k]) => k === 'handler' || k === 'handler+redis')
          ? 'a variant is not steady over the rounds (see the warm row): the ratio of medians depends on the window'
          : undefined,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 3b. Five 100-item batches

interface BatchResult extends ChildUsage {
  elapsedMs: number;
  memory: NodeJS.MemoryUsage;
}

async function batches(bench: Bench): Promise<Row[]> {
  const concurrency = Number(bench.deployed.withdraw.env.BATCH_CONCURRENCY ?? 8);
  await bench.emulator.ask({ op: 'latency', ms: BATCH_LATENCY_MS });
  const runs: { rssMb: number; elapsedMs: number; idealMs: number; records: RecordsReply; cpuMs: number; memory: unknown }[] = [];
  for (let i = 0; i < BATCH_RUNS; i++) {
    await bench.emulator.ask({ op: 'reset' });
    const arg = { role: bench.role, instanceId: INSTANCE_BATCH, bundle: WITHDRAW_BUNDLE, fn: bench.deployed.withdraw.fn, prefix: 'batch-', from: i * BATCHES * BATCH_SIZE, batches: BATCHES, size: BATCH_SIZE };
    const { result } = await runChild<BatchResult>(path.join(BUILD, 'bench-batch.js'), arg, bench.env('withdraw'), 60_000);
    const records = await emulatorRecords(bench);
    const withdrawals = records.serviceMs.WithdrawScriptReview;
    if (records.byAction.WithdrawScriptReview !== BATCHES * BATCH_SIZE) throw new Error(`batch run made ${records.byAction.WithdrawScriptReview} withdrawals, not ${BATCHES * BATCH_SIZE}`);
    runs.push({ rssMb: result.maxRssKb / 1024, elapsedMs: result.elapsedMs, idealMs: withdrawals!.sum / concurrency, records, cpuMs: result.cpuUs / 1000, memory: result.memory });
  }
  const small = await runChild<BatchResult>(
    path.join(BUILD, 'bench-batch.js'),
    { role: bench.role, instanceId: INSTANCE_BATCH, bundle: WITHDRAW_BUNDLE, fn: bench.deployed.withdraw.fn, prefix: 'batch-', from: BATCH_RUNS * BATCHES * BATCH_SIZE, batches: BATCHES, size: BATCH_SIZE },
    bench.env('withdraw'),
    60_000,
    SMALL_YOUNG_GENERATION,
  );
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
      measured: `${worst.toFixed(1)} MB worst of ${BATCH_RUNS} (median ${rss.median.toFixed(1)}, ${rss.min.toFixed(1)}–${rss.max.toFixed(1)}); ${(small.result.maxRssKb / 1024).toFixed(1)} MB with ${SMALL_YOUNG_GENERATION.join(' ')}`,
      budget,
      status: judged(worst, budget),
      data: {
        peakRssMb: rss,
        smallYoungGeneration: { nodeFlags: SMALL_YOUNG_GENERATION, peakRssMb: small.result.maxRssKb / 1024, memoryUsageAtEnd: small.result.memory },
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

type ListingSetup = 'QueryScriptsByStatus enabled' | 'QueryScriptsByStatus disabled';

async function cleanup(bench: Bench): Promise<Row[]> {
  const concurrency = Number(bench.deployed.cleanup.env.CLEANUP_CONCURRENCY ?? 8);
  const setups: { name: ListingSetup; short: string; disabled: string[] }[] = [
    { name: 'QueryScriptsByStatus enabled', short: 'QSBS on', disabled: [] },
    { name: 'QueryScriptsByStatus disabled', short: 'QSBS off', disabled: ['QueryScriptsByStatus'] },
  ];
  const runs: Record<
    string,
    { rssMb: number; elapsedMs: number; idealMs: number; listMs: number; withdrawMs: number; records: RecordsReply; summary: Record<string, unknown>; cpuMs: number; memory: unknown }[]
  > = {};
  await bench.emulator.ask({ op: 'latency', ms: CLEANUP_LATENCY_MS });
  for (let i = 0; i < CLEANUP_RUNS; i++) {
    for (const setup of i % 2 === 0 ? setups : [...setups].reverse()) {
      await bench.emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_CLEANUP, groups: cleanupSeed() } });
      await bench.emulator.ask({ op: 'disable', actions: setup.disabled });
      await bench.emulator.ask({ op: 'reset' });
      const arg = { role: bench.role, instanceId: INSTANCE_CLEANUP, bundle: CLEANUP_BUNDLE, fn: bench.deployed.cleanup.fn, olderThanMinutes: 1440, expect: CLEANUP_STALE };
      const { result } = await runChild<CleanupChildResult>(path.join(BUILD, 'bench-cleanup.js'), arg, bench.env('cleanup', { CLEANUP_MODE: 'inline' }), 120_000);
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
      (runs[setup.name] ??= []).push({ rssMb: result.maxRssKb / 1024, elapsedMs: result.elapsedMs, idealMs: listMs + withdrawMs, listMs, withdrawMs, records, summary: result.summary, cpuMs: result.cpuUs / 1000, memory: result.memory });
    }
  }
  const small: Record<string, number> = {};
  for (const setup of setups) {
    await bench.emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_CLEANUP, groups: cleanupSeed() } });
    await bench.emulator.ask({ op: 'disable', actions: setup.disabled });
    const arg = { role: bench.role, instanceId: INSTANCE_CLEANUP, bundle: CLEANUP_BUNDLE, fn: bench.deployed.cleanup.fn, olderThanMinutes: 1440, expect: CLEANUP_STALE };
    const { result } = await runChild<CleanupChildResult>(path.join(BUILD, 'bench-cleanup.js'), arg, bench.env('cleanup', { CLEANUP_MODE: 'inline' }), 120_000, SMALL_YOUNG_GENERATION);
    small[setup.name] = result.maxRssKb / 1024;
  }
  await bench.emulator.ask({ op: 'disable', actions: [] });
  await bench.emulator.ask({ op: 'latency', ms: 0 });

  const rows: Row[] = [];
  for (const setup of setups) {
    const r = runs[setup.name]!;
    const rss = summarize(r.map((x) => x.rssMb));
    const budget: Budget = { op: '<', limit: 96, text: '< 96 MB' };
    rows.push({
      id: `rss-cleanup-${setup.short.replace(' ', '-').toLowerCase()}`,
      name: `peak RSS, cleanup ${CLEANUP_SCRIPTS}/${CLEANUP_STALE} stale (${setup.short})`,
      value: rss.max,
      unit: 'MB',
      measured: `${rss.max.toFixed(1)} MB worst of ${CLEANUP_RUNS} (median ${rss.median.toFixed(1)}, ${rss.min.toFixed(1)}–${rss.max.toFixed(1)}); ${small[setup.name]!.toFixed(1)} MB with ${SMALL_YOUNG_GENERATION.join(' ')}`,
      budget,
      status: judged(rss.max, budget),
      data: { peakRssMb: rss, smallYoungGeneration: { nodeFlags: SMALL_YOUNG_GENERATION, peakRssMb: small[setup.name] }, mode: 'inline', upstreamLatencyMs: CLEANUP_LATENCY_MS, listing: setup.name, memoryUsageAtEnd: r.map((x) => x.memory) },
    });
  }
  for (const setup of setups) {
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
    const budget: Budget = { op: '>=', limit: 0.9, text: '≥ 90%' };
    rows.push({
      id: `cleanup-wall-${setup.short.replace(' ', '-').toLowerCase()}`,
      name: `cleanup wall vs ideal (${setup.short})`,
      value: share.median,
      unit: 'share',
      measured: `${(share.median * 100).toFixed(1)}% [${(share.p25 * 100).toFixed(1)}–${(share.p75 * 100).toFixed(1)}]: ideal ${spread(ideal, ms)} / actual ${spread(elapsed, ms)}; ${listCount} list × ${listService.map(ms).join('/')} + ${wsr?.n ?? 0} withdrawals × ${ms(wsr?.median ?? Number.NaN)} / ${concurrency}; child CPU ${(cpu.median / 1000).toFixed(2)} s`,
      budget,
      status: judged(share.median, budget),
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
    });
  }
  for (const setup of setups) {
    const r = runs[setup.name]!;
    const outcomes = Object.entries(r[0]!.records.byOutcome).filter(([key]) => LISTING_ACTIONS.has(key.split(' ')[0]!));
    const counts = r.map((x) => Object.entries(x.records.byAction).filter(([a]) => LISTING_ACTIONS.has(a)).reduce((n, [, c]) => n + c, 0));
    const text = outcomes.map(([key, n]) => {
      const [action, status, code] = key.split(' ');
      return `${action} ×${n}${status === '200' ? '' : ` (${status} ${code})`}`;
    });
    rows.push({
      id: `cleanup-listing-${setup.short.replace(' ', '-').toLowerCase()}`,
      name: `  cleanup listing calls (${setup.short})`,
      value: median(counts),
      unit: 'calls',
      measured: `${median(counts)} calls: ${text.join(' + ')}${new Set(counts).size > 1 ? ` (varied: ${counts.join(', ')})` : ''}`,
      budget: null,
      status: 'info',
      data: { calls: counts, byOutcome: Object.fromEntries(outcomes), expectedWithQueryScriptsByStatus: CLEANUP_STALE / 100, expectedWithListScripts: CLEANUP_SCRIPTS / 100 },
    });
  }
  return rows;
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

async function main() {
  for (const file of [WITHDRAW_BUNDLE, CLEANUP_BUNDLE]) if (!existsSync(file)) throw new Error(`${path.relative(root, file)} is missing: run npm run build`);
  const started = Date.now();
  const deployed = readDeployment(root);
  const baseEnv = (fn: 'withdraw' | 'cleanup', extra: Record<string, string> = {}, endpoint = ''): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...deployed[fn].env, OUTBOUNDBOT_ENDPOINT: endpoint, OUTBOUNDBOT_PROTOCOL: 'http', ...extra };
    if (!extra.IDEMPOTENCY_REDIS_URL) delete env.IDEMPOTENCY_REDIS_URL;
    return env;
  };

  const emulator = new IpcChild('emulator', path.join(BUILD, 'bench-emulator.js'), [], { PATH: process.env.PATH });
  let redis: BenchRedis | undefined;
  try {
    const { endpoint } = (await emulator.ready) as { endpoint: string };
    const role: Required<RawTarget> = {
      endpoint,
      accessKeyId: `STS.Bench${randomBytes(6).toString('hex')}`,
      accessKeySecret: randomBytes(24).toString('base64'),
      securityToken: `CAIS${randomBytes(48).toString('base64')}`,
    };
    const bench: Bench = { emulator, role, deployed, env: (fn, extra) => baseEnv(fn, extra, endpoint) };
    await emulator.ask({ op: 'credential', credential: role });
    const warmIds = WARM_WARMUP + WARM_ROUNDS * WARM_CALLS;
    const review = (prefix: string, count: number): ScriptGroup => ({ prefix, count, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 0 });
    await emulator.ask({
      op: 'seed',
      seed: {
        instanceId: INSTANCE_HOT,
        groups: [
          review('cold-h-', COLD_DISCARD + COLD_PAIRS),
          review('cold-r-', COLD_DISCARD + COLD_PAIRS),
          ...['handler', 'client', 'raw', 'redis'].map((v) => review(`warm-${v}-`, warmIds)),
        ],
      },
    });
    await emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_BATCH, groups: [review('batch-', (BATCH_RUNS + 1) * BATCHES * BATCH_SIZE)] } });

    if (redisInstalled()) redis = await startRedis();
    const section = async (name: string, run: () => Promise<Row[]>) => {
      const t0 = Date.now();
      process.stderr.write(`bench: ${name}…`);
      const rows = await run();
      process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      return rows;
    };
    const rows = [
      ...(await section('cold start', () => coldStart(bench))),
      ...(await section('warm CPU', () => warm(bench, redis))),
      ...(await section('batches', () => batches(bench))),
      ...(await section('cleanup', () => cleanup(bench))),
      ...sizes(),
    ];
    // Rows in the order of the budget: cold, warm, memory, cleanup wall, sizes, store cost.
    const order = ['cold', 'warm', 'rss-cleanup', 'rss-batches', 'batch', 'cleanup-wall', 'cleanup-listing', 'size', 'store'];
    rows.sort((a, b) => order.findIndex((p) => a.id.startsWith(p)) - order.findIndex((p) => b.id.startsWith(p)));
    await emulator.ask({ op: 'close' });

    printTable(rows);
    const ok = rows.every((r) => r.status !== 'fail');
    const results = {
      date: new Date().toISOString(),
      ok,
      durationSeconds: (Date.now() - started) / 1000,
      machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / MB) },
      method: {
        processes:
          'The emulator runs in a process of its own; every measured thing runs in a fresh child of its own (cold: one per run; warm: one per variant, alive for all rounds); the parent only orchestrates. One measured child runs at a time, so on 2 cores the emulator and the measured child each have one.',
        cpu:
          "Reported by the measured child itself: process.resourceUsage() (cold start; getrusage(RUSAGE_SELF): user + system of every thread since exec, µs resolution) taken when its work is done, just before process.exit; process.cpuUsage() deltas around a block of calls (warm). Not /proc/<pid>/stat: its utime/stime are in clock ticks (CLK_TCK = 100, i.e. 10 ms), the size of what a cold start costs, and it can only be read while the child is alive, which needs the child's cooperation anyway. Not counted: the few syscalls of process exit after the report, the same in both variants.",
        wall: 'Cold start: from spawn() to the exit event in the parent (exec, bootstrap, bundle load, the request, exit). Warm: performance.now() around the block of calls in the child. Cleanup and batches: performance.now() around the handler call(s) in the child.',
        cpuCrossCheck:
          'Warm rounds are also read from outside, /proc/<pid>/stat utime+stime before and after each round (10 ms ticks, fine over a round of ~0.1–0.5 s): warm-cpu.procStatCrossCheck.childOverProc near 1 says the child-reported figure is sound.',
        warmSteadyState: `Each warm process first makes ${WARM_WARMUP} unmeasured calls (CPU per call keeps falling for ~3,000 calls while the JIT tiers up); a variant whose median CPU per call in the last third of the rounds differs from the first third by more than 25% is flagged on the row (warm-cpu.drift).`,
        rss: `Peak RSS = the child's process.resourceUsage().maxRSS (getrusage ru_maxrss, KB) when its work is done, unconstrained; the budget applies to the worst run. V8 sizes its young generation from the machine's memory (16 MB semi-spaces here), more than on a 128 MB instance, so one more run of each cleanup and of the batches with ${SMALL_YOUNG_GENERATION.join(' ')} is shown beside it (information, not budgeted).`,
        ideal:
          "The emulator's real service time per request (from the request's headers being parsed to the answer being handed to the kernel: configured latency, timer lateness, its own work and queueing), taken through node:diagnostics_channel (http.server.request.start / http.server.response.finish) in the emulator process. Ideal = the listing calls' service times one after another + the other calls' service times / the configured concurrency.",
        statistics: 'Medians with [p25–p75]; ratios are ratios of medians, pairwise (per run pair or per round) ratios are reported beside them. Cold runs alternate A/B and B/A; warm rounds rotate the variants.',
      },
      config: {
        coldPairs: COLD_PAIRS,
        coldDiscardedPairs: COLD_DISCARD,
        warm: { rounds: WARM_ROUNDS, callsPerRound: WARM_CALLS, warmupCalls: WARM_WARMUP, event: 'direct invocation {InstanceId, ScriptId} as a Buffer, FC 3.0 context', upstreamLatencyMs: 0 },
        batches: { runs: BATCH_RUNS, batches: BATCHES, size: BATCH_SIZE, upstreamLatencyMs: BATCH_LATENCY_MS, concurrency: Number(deployed.withdraw.env.BATCH_CONCURRENCY ?? 8) },
        cleanup: { runs: CLEANUP_RUNS, scripts: CLEANUP_SCRIPTS, stale: CLEANUP_STALE, upstreamLatencyMs: CLEANUP_LATENCY_MS, concurrency: Number(deployed.cleanup.env.CLEANUP_CONCURRENCY ?? 8), mode: 'inline' },
        functions: { withdraw: deployed.withdraw.fn, cleanup: deployed.cleanup.fn },
        redis: redis ? 'redis-server on a free loopback port' : 'not installed',
      },
      rows: rows.map(({ id, name, value, unit, budget, status, measured, note, data }) => ({
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
      })),
    };
    writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${ok ? 'all budgets met' : 'BUDGET MISSED'}; ${results.durationSeconds.toFixed(0)} s; results written to bench/results.json\n`);
    return ok ? 0 : 1;
  } finally {
    await redis?.stop();
    emulator.kill();
    killAll();
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
