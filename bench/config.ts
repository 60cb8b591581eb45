// What a bench run is made of: where the bundles are, how many runs and calls each row takes
// (BENCH_* variables override the counts), and the sizes of the seeded instances.
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const BUILD = path.join(ROOT, 'build');
export const DIST = path.join(ROOT, 'dist');
export const WITHDRAW_BUNDLE = path.join(DIST, 'withdraw', 'index.js');
export const CLEANUP_BUNDLE = path.join(DIST, 'cleanup', 'index.js');

/** A BENCH_* count from the environment, else `fallback`. */
export const int = (name: string, fallback: number, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
  return value;
};

/** Measured cold-start runs (one process of each variant per run), after COLD_DISCARD runs that warm the page cache. */
export const COLD_RUNS = int('BENCH_COLD_RUNS', 21, 15);
export const COLD_DISCARD = 2;
export const WARM_ROUNDS = int('BENCH_WARM_ROUNDS', 11, 3);
export const WARM_CALLS = int('BENCH_WARM_CALLS', 250, 20);
/** Past the JIT's plateau: CPU per call keeps falling for the first ~3,000 calls of every variant. */
export const WARM_WARMUP = int('BENCH_WARM_WARMUP', 3000, 20);
export const CLEANUP_RUNS = int('BENCH_CLEANUP_RUNS', 3);
export const BATCH_RUNS = int('BENCH_BATCH_RUNS', 3);
/** The whole bench is killed past this: a hung child never hangs the bench. */
export const MAX_SECONDS = int('BENCH_MAX_SECONDS', 540, 60);

export const CLEANUP_SCRIPTS = 5_000;
export const CLEANUP_STALE = 2_000;
export const CLEANUP_LATENCY_MS = 10;
export const BATCHES = 5;
export const BATCH_SIZE = 100;
export const BATCH_LATENCY_MS = 20;
export const MB = 1024 * 1024;

export const INSTANCE_HOT = 'bench-hot';
export const INSTANCE_BATCH = 'bench-batch';
export const INSTANCE_CLEANUP = 'bench-cleanup';

export type ColdVariant = 'handler' | 'raw' | 'client';
/** Each fresh process: the deployed bundle, the hand-signed floor, and the official client alone (bundled as the function is). */
export const COLD_CHILDREN: Record<ColdVariant, string> = { handler: 'bench-cold-handler.js', raw: 'bench-cold-raw.js', client: 'bench-cold-client.js' };
export const COLD_VARIANTS = Object.keys(COLD_CHILDREN) as ColdVariant[];
