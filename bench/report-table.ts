// The figures table of docs/PERFORMANCE.md, drawn from bench/results.json between its markers:
// every row with its budget, figure, result and the bench's own line on how it was measured.
import { budgetText, figureText, RESULT_WORD, runDate, runMachine } from './report-format';
import type { BenchResults } from './results';

export const TABLE_START = '<!-- bench:table -->';
export const TABLE_END = '<!-- /bench:table -->';

/** Markdown table cells cannot hold a bare `|` or a line break. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

export function figuresTable(results: BenchResults): string {
  const missed = results.rows.filter((r) => r.status === 'fail').length;
  const verdict = missed === 0 ? 'Every budget met.' : `${missed} budget${missed === 1 ? '' : 's'} missed.`;
  const lines = [
    `The run of ${runDate(results)} (${results.durationSeconds.toFixed(0)} s) on ${runMachine(results)}. ${verdict}`,
    '',
    '| row | budget | figure | result | measured |',
    '| --- | --- | --- | --- | --- |',
    ...results.rows.map((r) => {
      const result = r.status === 'fail' ? `**${RESULT_WORD.fail}**` : RESULT_WORD[r.status];
      const measured = r.note ? `${r.measured} (${r.note})` : r.measured;
      return `| ${cell(r.name)} | ${budgetText(r.budget)} | ${figureText(r.value, r.unit)} | ${result} | ${cell(measured)} |`;
    }),
  ];
  return lines.join('\n');
}

/** `markdown` with the text between the markers replaced by the table of `results`. */
export function withFiguresTable(markdown: string, results: BenchResults): string {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start === -1 || end < start) throw new Error(`docs/PERFORMANCE.md has no ${TABLE_START} … ${TABLE_END} markers to draw the table between`);
  return `${markdown.slice(0, start + TABLE_START.length)}\n${figuresTable(results)}\n${markdown.slice(end)}`;
}
