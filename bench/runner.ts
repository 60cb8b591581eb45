// One bench run: the emulator and Redis started, each row family measured in turn (BENCH_ONLY
// picks some), the rows put in the budget's order, then the report: the terminal table,
// bench/results.json and the docs drawn from it. Resolves to the exit code: 1 when a budget is missed.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { redisInstalled, startRedis, type RedisServer } from '../local/redis-server';
import { batches } from './batch-rows';
import { cleanup } from './cleanup-rows';
import { scaleCleanup } from './cleanup-scale';
import { coldStart } from './cold-rows';
import { BUILD, CLEANUP_BUNDLE, ROOT, WITHDRAW_BUNDLE } from './config';
import { readDeployment } from './deployment';
import { createInstanceCgroup, type InstanceCgroup } from './fc-instance';
import { IpcChild, killAll } from './processes';
import { drawDocs, printTable, writeResults } from './report';
import { benchResults } from './results';
import type { Row } from './rows';
import { setUpBench, type Bench } from './setup';
import { sizes } from './size-rows';
import { storeRoundTrips } from './store-round-trips';
import { warm } from './warm-rows';
import { roundTripChild } from './warm-rounds';

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

export async function runBench(): Promise<number> {
  for (const file of [WITHDRAW_BUNDLE, CLEANUP_BUNDLE]) if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run npm run build`);
  const started = Date.now();
  const deployed = readDeployment(ROOT);
  const emulator = new IpcChild('emulator', path.join(BUILD, 'bench-emulator.js'), [], { PATH: process.env.PATH });
  let redis: RedisServer | undefined;
  let instance: InstanceCgroup | undefined;
  try {
    instance = createInstanceCgroup(deployed.cleanup.fn.memory);
    const bench = await setUpBench(emulator, deployed, instance);
    if (redisInstalled()) redis = await startRedis();
    const rows = await measureAll(bench, redis);
    await emulator.ask({ op: 'close' });

    printTable(rows);
    const results = benchResults(rows, started, deployed, redis);
    writeResults(results, ROOT);
    // A partial run (BENCH_ONLY) leaves the docs as they are: their table lists every row.
    if (!ONLY) drawDocs(results, ROOT);
    const written = ONLY ? 'bench/results.json' : 'bench/results.json, docs/PERFORMANCE.md and docs/performance.svg';
    process.stdout.write(`${results.ok ? 'all budgets met' : 'BUDGET MISSED'}; ${results.durationSeconds.toFixed(0)} s; results written to ${written}\n`);
    return results.ok ? 0 : 1;
  } finally {
    await redis?.stop();
    emulator.kill();
    killAll();
    instance?.remove();
  }
}
