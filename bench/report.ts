// What a bench run leaves behind: the table on the terminal, bench/results.json, and the docs
// drawn from that file (the figures table of docs/PERFORMANCE.md and docs/performance.svg);
// `node build/bench.js --report-only` redraws the docs from the committed file without measuring.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withFiguresTable } from './report-table';
import { performanceSvg } from './report-svg';
import type { BenchResults } from './results';
import type { Row, Status } from './rows';

export const RESULTS_PATH = 'bench/results.json';
export const PERFORMANCE_DOC = 'docs/PERFORMANCE.md';
export const PERFORMANCE_SVG = 'docs/performance.svg';

export function printTable(rows: Row[]): void {
  const tag: Record<Status, string> = { pass: 'ok  ', fail: 'MISS', info: '    ', skipped: 'skip', 'not-measurable': 'n/a ' };
  const width = Math.max(...rows.map((r) => r.name.length));
  const bwidth = Math.max(...rows.map((r) => (r.budget?.text ?? '').length));
  for (const r of rows) {
    process.stdout.write(`${tag[r.status]}  ${r.name.padEnd(width)}  ${(r.budget?.text ?? '').padEnd(bwidth)}  ${r.measured}\n`);
    if (r.note) process.stdout.write(`${' '.repeat(6 + width + 2 + bwidth + 2)}(${r.note})\n`);
  }
}

export function writeResults(results: BenchResults, root: string): void {
  writeFileSync(path.join(root, RESULTS_PATH), `${JSON.stringify(results, null, 2)}\n`);
}

export function readResults(root: string): BenchResults {
  return JSON.parse(readFileSync(path.join(root, RESULTS_PATH), 'utf8')) as BenchResults;
}

/** docs/PERFORMANCE.md and docs/performance.svg as `results` draws them. */
export function drawnDocs(results: BenchResults, root: string): { markdown: string; svg: string } {
  return { markdown: withFiguresTable(readFileSync(path.join(root, PERFORMANCE_DOC), 'utf8'), results), svg: performanceSvg(results) };
}

export function drawDocs(results: BenchResults, root: string): void {
  const { markdown, svg } = drawnDocs(results, root);
  writeFileSync(path.join(root, PERFORMANCE_DOC), markdown);
  writeFileSync(path.join(root, PERFORMANCE_SVG), svg);
}
