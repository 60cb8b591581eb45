// The cleanup's measured runs: 2,000 stale reviews spread through 5,000 scripts at 10 ms upstream
// latency, inline, once with QueryScriptsByStatus and once refused (the ListScripts fallback),
// alternating; each run's peak RSS, wall time, and the ideal built from the emulator's own
// service time of every call the run made.
import path from 'node:path';
import type { ChildUsage } from './child-report';
import { BUILD, CLEANUP_BUNDLE, CLEANUP_LATENCY_MS, CLEANUP_RUNS, CLEANUP_SCRIPTS, CLEANUP_STALE, INSTANCE_CLEANUP } from './config';
import type { RecordsReply, ScriptGroup } from './emulator-process';
import { runChild, type ChildRun } from './processes';
import { comparisonRun, emulatorRecords, type Bench, type Wrap } from './setup';

export interface CleanupChildResult extends ChildUsage {
  elapsedMs: number;
  summary: Record<string, unknown>;
  memory: NodeJS.MemoryUsage;
}

export const LISTING_ACTIONS = new Set(['ListScripts', 'QueryScriptsByStatus']);

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

export interface CleanupSetup {
  name: 'QueryScriptsByStatus enabled' | 'QueryScriptsByStatus disabled';
  short: string;
  /** For row ids. */
  slug: string;
  disabled: string[];
}

export const CLEANUP_SETUPS: readonly CleanupSetup[] = [
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
export interface CleanupTable {
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

/** CLEANUP_RUNS runs of each setup, alternating which goes first, then one comparison run of each. */
export async function cleanupRuns(bench: Bench): Promise<CleanupTable> {
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
  return table;
}
