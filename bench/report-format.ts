// How the report spells a row of bench/results.json: its figure, its budget, its result, and the
// run it came from, the same in the docs' table and in the chart.
import type { Status } from './rows';
import type { BenchResults, ResultRow } from './results';

const OP_SIGN = { '<=': '≤', '<': '<', '>=': '≥' } as const;

/** A value in its row's unit, rounded as the row's budget is read. */
export function figureText(value: number | null, unit: string): string {
  if (value === null) return '—';
  if (unit === '×') return `${value.toFixed(3)}×`;
  if (unit === 'share') return `${(value * 100).toFixed(1)} %`;
  if (unit === 'MB' || unit === 'KB') return `${value.toFixed(1)} ${unit}`;
  if (unit === 'ms' || unit === 'round trips') return `${value.toFixed(2)} ${unit}`;
  return `${Number(value.toFixed(2))} ${unit}`;
}

export function budgetText(budget: ResultRow['budget']): string {
  if (!budget) return '—';
  const { op, limit, unit } = budget;
  // A count that may be off by nothing (the cleanup's calls): ≤ 0 is = 0.
  if (op === '<=' && limit === 0) return `= 0 ${unit}`;
  const amount = unit === '×' ? `${limit}×` : unit === 'share' ? `${Number((limit * 100).toFixed(1))} %` : `${limit} ${unit}`;
  return `${OP_SIGN[op]} ${amount}`;
}

export const RESULT_WORD: Record<Status, string> = { pass: 'met', fail: 'missed', info: 'information', skipped: 'skipped', 'not-measurable': 'not measurable' };

/** `2026-12-07 00:30 UTC`. */
export const runDate = ({ date }: BenchResults): string => `${date.slice(0, 10)} ${date.slice(11, 16)} UTC`;

/** `2 × AMD EPYC, 24 GB, linux 6.18, Node v20.20.2`. */
export function runMachine({ machine }: BenchResults): string {
  return `${machine.cpus} × ${machine.cpuModel ?? 'unknown CPU'}, ${Math.round(machine.memoryMb / 1024)} GB, ${machine.platform}, Node ${machine.node}`;
}
