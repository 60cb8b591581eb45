// bench/results.json: the run's rows with everything behind each figure, how each figure is taken
// (`method`), what was run (`config`) and on what machine. The report (bench/report.ts) draws the
// docs from this file alone, so it can redraw them without measuring.
import os from 'node:os';
import type { RedisServer } from '../local/redis-server';
import { BATCHES, BATCH_LATENCY_MS, BATCH_RUNS, BATCH_SIZE, CLEANUP_LATENCY_MS, CLEANUP_RUNS, CLEANUP_SCRIPTS, CLEANUP_STALE, COLD_DISCARD, COLD_RUNS, MB, WARM_CALLS, WARM_ROUNDS, WARM_WARMUP } from './config';
import type { Budget, Row, Status } from './rows';
import { SMALL_YOUNG_GENERATION, type Deployed } from './setup';

/** A row as results.json has it: its data flattened in, the budget's pass or fail spelled out. */
export interface ResultRow {
  id: string;
  name: string;
  value: number | null;
  unit: string;
  budget: { op: Budget['op']; limit: number; unit: string } | null;
  pass: boolean | null;
  status: Status;
  measured: string;
  note?: string;
  [data: string]: unknown;
}

export interface BenchResults {
  date: string;
  ok: boolean;
  durationSeconds: number;
  machine: { node: string; platform: string; cpus: number; cpuModel?: string; memoryMb: number };
  method: Record<string, string>;
  config: Record<string, unknown>;
  rows: ResultRow[];
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

function resultRow({ id, name, value, unit, budget, status, measured, note, data }: Row): ResultRow {
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

export function benchResults(rows: Row[], startedMs: number, deployed: Deployed, redis: RedisServer | undefined): BenchResults {
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
