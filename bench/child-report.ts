// What a measured child prints at the end of its work: its own resource usage, read with
// getrusage(RUSAGE_SELF) (process.resourceUsage()), which covers every thread of the process
// (main thread, V8's GC and compiler threads, libuv's pool) from exec to now, at microsecond
// resolution. One marker line on stderr (a pipe: synchronous on Linux), so that anything else
// the child writes there stays a diagnostic.
import { performance } from 'node:perf_hooks';

export const RESULT_MARK = '@@bench-result ';

export interface ChildUsage {
  /** user + system CPU of the whole process since exec, µs. */
  cpuUs: number;
  userUs: number;
  systemUs: number;
  /** Peak resident set size of the process, KB (getrusage ru_maxrss). */
  maxRssKb: number;
  /** Time since the process started (performance.timeOrigin), ms. */
  uptimeMs: number;
}

export function usage(): ChildUsage {
  const r = process.resourceUsage();
  return { cpuUs: r.userCPUTime + r.systemCPUTime, userUs: r.userCPUTime, systemUs: r.systemCPUTime, maxRssKb: r.maxRSS, uptimeMs: performance.now() };
}

/** Prints the usage (and `extra`) as the result line and exits at once: no keep-alive socket holds the process. */
export function reportAndExit(extra: Record<string, unknown> = {}): never {
  const u = usage();
  process.stderr.write(`${RESULT_MARK}${JSON.stringify({ ...extra, ...u })}\n`);
  process.exit(0);
}

export function fail(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
