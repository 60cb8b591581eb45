// Five 100-item batches arriving together at 20 ms upstream latency: the withdraw function's peak
// RSS in a memory cgroup of its deployed size (budgeted < 96 MB), one comparison run beside it,
// and for information the batches' wall time against the ideal at the configured concurrency.
import path from 'node:path';
import type { ChildUsage } from './child-report';
import { BATCHES, BATCH_LATENCY_MS, BATCH_RUNS, BATCH_SIZE, BUILD, INSTANCE_BATCH, WITHDRAW_BUNDLE } from './config';
import type { RecordsReply } from './emulator-process';
import { runChild, type ChildRun } from './processes';
import { judged, ms, RSS_BUDGET, type Row } from './rows';
import { comparisonRun, emulatorRecords, instanceNote, type Bench, type Wrap } from './setup';
import { summarize } from './stats';

interface BatchResult extends ChildUsage {
  elapsedMs: number;
  memory: NodeJS.MemoryUsage;
}

interface BatchRun {
  rssMb: number;
  elapsedMs: number;
  idealMs: number;
  records: RecordsReply;
  cpuMs: number;
  memory: unknown;
}

/** BATCHES batches of BATCH_SIZE seeded reviews from `from` on, all arriving together. */
function runBatches(bench: Bench, from: number, nodeFlags: string[] = [], wrap?: Wrap): Promise<ChildRun<BatchResult>> {
  const arg = { role: bench.role, instanceId: INSTANCE_BATCH, bundle: WITHDRAW_BUNDLE, fn: bench.deployed.withdraw.fn, prefix: 'batch-', from, batches: BATCHES, size: BATCH_SIZE };
  return runChild<BatchResult>(path.join(BUILD, 'bench-batch.js'), arg, bench.env('withdraw'), 60_000, nodeFlags, wrap);
}

export async function batches(bench: Bench): Promise<Row[]> {
  const concurrency = Number(bench.deployed.withdraw.env.BATCH_CONCURRENCY ?? 8);
  await bench.emulator.ask({ op: 'latency', ms: BATCH_LATENCY_MS });
  const runs: BatchRun[] = [];
  for (let i = 0; i < BATCH_RUNS; i++) {
    await bench.emulator.ask({ op: 'reset' });
    const { result } = await runBatches(bench, i * BATCHES * BATCH_SIZE, [], bench.instance?.wrap);
    const records = await emulatorRecords(bench);
    const withdrawals = records.serviceMs.WithdrawScriptReview;
    if (records.byAction.WithdrawScriptReview !== BATCHES * BATCH_SIZE) throw new Error(`batch run made ${records.byAction.WithdrawScriptReview} withdrawals, not ${BATCHES * BATCH_SIZE}`);
    runs.push({ rssMb: result.maxRssKb / 1024, elapsedMs: result.elapsedMs, idealMs: withdrawals!.sum / concurrency, records, cpuMs: result.cpuUs / 1000, memory: result.memory });
  }
  const small = await runBatches(bench, BATCH_RUNS * BATCHES * BATCH_SIZE, comparisonRun(bench).nodeFlags);
  await bench.emulator.ask({ op: 'latency', ms: 0 });
  return [batchRssRow(bench, runs, small.result, concurrency), batchThroughputRow(runs, concurrency)];
}

function batchRssRow(bench: Bench, runs: BatchRun[], small: BatchResult, concurrency: number): Row {
  const comparison = comparisonRun(bench);
  const rss = summarize(runs.map((r) => r.rssMb));
  const worst = rss.max;
  return {
    id: 'rss-batches',
    name: `peak RSS, ${BATCHES}×${BATCH_SIZE}-item batches (${BATCH_LATENCY_MS} ms)`,
    value: worst,
    unit: 'MB',
    measured: `${worst.toFixed(1)} MB worst of ${BATCH_RUNS} (median ${rss.median.toFixed(1)}, ${rss.min.toFixed(1)}–${rss.max.toFixed(1)})${instanceNote(bench)}; ${(small.maxRssKb / 1024).toFixed(1)} MB ${comparison.label}`,
    budget: RSS_BUDGET,
    status: judged(worst, RSS_BUDGET),
    data: {
      peakRssMb: rss,
      instance: bench.instance ? { kind: bench.instance.kind, limitMb: bench.instance.limitMb } : 'unconstrained',
      comparison: { run: comparison.label, peakRssMb: small.maxRssKb / 1024, memoryUsageAtEnd: small.memory },
      runs: runs.map((r) => ({ peakRssMb: r.rssMb, elapsedMs: r.elapsedMs, idealMs: r.idealMs, childCpuMs: r.cpuMs, memoryUsageAtEnd: r.memory })),
      concurrency,
      batchesArriveTogether: true,
    },
  };
}

function batchThroughputRow(runs: BatchRun[], concurrency: number): Row {
  const share = summarize(runs.map((r) => r.idealMs / r.elapsedMs));
  return {
    id: 'batch-throughput',
    name: '  batch wall vs ideal (information)',
    value: share.median,
    unit: 'share',
    measured: `${(share.median * 100).toFixed(1)}% [${(share.p25 * 100).toFixed(1)}–${(share.p75 * 100).toFixed(1)}] of ideal (${BATCHES * BATCH_SIZE} withdrawals × ${ms(runs[0]!.records.serviceMs.WithdrawScriptReview!.median)} / ${concurrency})`,
    budget: null,
    status: 'info',
    data: { share, emulatorServiceMs: runs.map((r) => r.records.serviceMs) },
  };
}
