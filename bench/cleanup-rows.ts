// The cleanup's rows, for each listing (QueryScriptsByStatus, and its ListScripts fallback):
// peak RSS in a memory cgroup of the deployed size (< 96 MB), wall time against the ideal at the
// emulator's measured service times (≥ 90 %), the calls made in every run (exactly), and the
// listing calls (information).
import { CLEANUP_LATENCY_MS, CLEANUP_RUNS, CLEANUP_SCRIPTS, CLEANUP_STALE } from './config';
import { cleanupRuns, CLEANUP_SETUPS, LISTING_ACTIONS, type CleanupSetup, type CleanupTable } from './cleanup-runs';
import { judged, ms, RSS_BUDGET, spread, type Budget, type Row } from './rows';
import { comparisonRun, instanceNote, type Bench } from './setup';
import { median, summarize } from './stats';

export async function cleanup(bench: Bench): Promise<Row[]> {
  const table = await cleanupRuns(bench);
  // Each kind of row for every setup, kind by kind.
  return CLEANUP_ROWS.flatMap((row) => CLEANUP_SETUPS.map((setup) => row(setup, table)));
}

function cleanupRssRow(setup: CleanupSetup, { runs, small, bench }: CleanupTable): Row {
  const r = runs[setup.name]!;
  const rss = summarize(r.map((x) => x.rssMb));
  return {
    id: `rss-cleanup-${setup.slug}`,
    name: `peak RSS, cleanup ${CLEANUP_SCRIPTS}/${CLEANUP_STALE} stale (${setup.short})`,
    value: rss.max,
    unit: 'MB',
    measured: `${rss.max.toFixed(1)} MB worst of ${CLEANUP_RUNS} (median ${rss.median.toFixed(1)}, ${rss.min.toFixed(1)}–${rss.max.toFixed(1)})${instanceNote(bench)}; ${small[setup.name]!.toFixed(1)} MB ${comparisonRun(bench).label}`,
    budget: RSS_BUDGET,
    status: judged(rss.max, RSS_BUDGET),
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
