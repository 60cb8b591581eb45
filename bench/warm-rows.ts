// Warm CPU per withdrawal (DESIGN §11): the handler over the official client alone, reused, after
// the warm-up (budgeted), and for information the function's guarded client and a hand-signed
// request beside them; the store-cost row comes from the same rounds (bench/store-cost.ts).
import type { RedisServer } from '../local/redis-server';
import { WARM_CALLS, WARM_ROUNDS, WARM_WARMUP } from './config';
import { CLK_TCK } from './processes';
import { judged, ratio, spread, us, type Budget, type Row } from './rows';
import type { Bench } from './setup';
import { storeCostRow } from './store-cost';
import { startWarmChild, warmRounds, warmSetups, type WarmSamples } from './warm-rounds';
import { driftNote, mapValues, pairwise, warmStats, type WarmStats } from './warm-stats';

export async function warm(bench: Bench, redis: RedisServer | undefined): Promise<Row[]> {
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
