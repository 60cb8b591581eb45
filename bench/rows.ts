// The bench's rows: what each measured figure is, its budget, and how it is printed.
import type { Summary } from './stats';

export type Status = 'pass' | 'fail' | 'info' | 'skipped' | 'not-measurable';

export interface Budget {
  op: '<=' | '<' | '>=';
  limit: number;
  text: string;
}

export interface Row {
  id: string;
  name: string;
  /** The figure the budget applies to (a ratio, MB, a share…). */
  value: number | null;
  unit: string;
  /** One line for the table: the medians and their spread. */
  measured: string;
  budget: Budget | null;
  status: Status;
  /** Everything behind the figure: medians, spreads, samples, counts. */
  data: Record<string, unknown>;
  note?: string;
}

/** Peak RSS of every memory row: a 128 MB instance with room to spare (DESIGN §11). */
export const RSS_BUDGET: Budget = { op: '<', limit: 96, text: '< 96 MB' };

export function judged(value: number, budget: Budget): Status {
  const ok = budget.op === '<=' ? value <= budget.limit : budget.op === '<' ? value < budget.limit : value >= budget.limit;
  return ok ? 'pass' : 'fail';
}

export const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
export const us = (v: number) => `${v.toFixed(0)} µs`;
export const spread = (s: Summary, fmt: (v: number) => string) => `${fmt(s.median)} [${fmt(s.p25)}–${fmt(s.p75)}]`;
export const ratio = (v: number) => `${v.toFixed(3)}×`;
