// The cleanup at scale (issue #24): 5,000 stale reviews spread through 100,000 scripts, listed
// with ListScripts (QueryScriptsByStatus refused), 25 ms a call, in a 20 s function whose listing
// cannot finish: peak RSS (< 96 MB) of a capped run and of an uncapped dry run.
import path from 'node:path';
import { BUILD, CLEANUP_BUNDLE } from './config';
import type { CleanupChildResult } from './cleanup-runs';
import type { ScriptGroup } from './emulator-process';
import { runChild } from './processes';
import { judged, RSS_BUDGET, type Row } from './rows';
import { instanceNote, type Bench } from './setup';

const SCALE_SCRIPTS = 100_000;
const SCALE_STALE = 5_000;
const SCALE_LATENCY_MS = 25;
const SCALE_TIMEOUT_S = 20;
const INSTANCE_SCALE = 'bench-scale';

export async function scaleCleanup(bench: Bench): Promise<Row[]> {
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
    budget: RSS_BUDGET,
    status: judged(rssMb, RSS_BUDGET),
    data: { peakRssMb: rssMb, summary: result.summary, scripts: SCALE_SCRIPTS, stale: SCALE_STALE, latencyMs: SCALE_LATENCY_MS, timeoutSeconds: SCALE_TIMEOUT_S },
  };
}
