// Cold start (DESIGN §11): a fresh process loading the withdraw bundle and serving one withdrawal,
// against the official client alone bundled the same way and a bare process signing by hand;
// CPU and wall as ratios of medians (budgeted: handler / client alone), peak RSS, and zod's share.
import path from 'node:path';
import type { ChildUsage } from './child-report';
import { BUILD, COLD_CHILDREN, COLD_DISCARD, COLD_RUNS, COLD_VARIANTS, type ColdVariant } from './config';
import { runChild } from './processes';
import { judged, ms, ratio, spread, type Budget, type Row } from './rows';
import { withdrawTarget, type Bench } from './setup';
import { summarize } from './stats';

interface ColdSample {
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
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

export async function coldStart(bench: Bench): Promise<Row[]> {
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
  rows.push(coldRssRow(samples), await zodCost());
  return rows;
}

function coldRssRow(samples: Record<ColdVariant, ColdSample[]>): Row {
  const rss = { handler: summarize(samples.handler.map((s) => s.maxRssMb)), bareNode: summarize(samples.raw.map((s) => s.maxRssMb)) };
  return {
    id: 'cold-rss',
    name: '  cold start peak RSS (information)',
    value: rss.handler.median,
    unit: 'MB',
    measured: `${rss.handler.median.toFixed(1)} MB handler / ${rss.bareNode.median.toFixed(1)} MB bare node`,
    budget: null,
    status: 'info',
    data: rss,
  };
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
