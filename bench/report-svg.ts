// docs/performance.svg, drawn by hand from bench/results.json: each budgeted row with a limit as
// a bar, its figure over its budget on one axis, against the budget's line. A missed budget is a
// hatched bar with the word "missed" beside it, so colour is never the only sign.
import { budgetText, figureText, RESULT_WORD, runDate, runMachine } from './report-format';
import type { BenchResults, ResultRow } from './results';

const WIDTH = 1000;
const LABEL_RIGHT = 420;
const BAR_LEFT = 430;
/** The axis runs from 0 to twice the budget; a longer bar is cut at its end (its figure says how long). */
const BAR_WIDTH = 300;
const AXIS_MAX = 2;
const ROW_HEIGHT = 24;
const TOP = 100;
const FONT = 'font-family="sans-serif" font-size="12"';

/** Rows drawn: budgeted, measured, with a limit to be a share of (an "exactly 0" budget has none). */
export function chartedRows(results: BenchResults): ResultRow[] {
  return results.rows.filter((r) => r.budget !== null && r.budget.limit !== 0 && r.value !== null);
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const x = (share: number) => (BAR_LEFT + (Math.min(share, AXIS_MAX) / AXIS_MAX) * BAR_WIDTH).toFixed(1);

function bar(row: ResultRow, index: number): string {
  const y = TOP + index * ROW_HEIGHT;
  const missed = row.status === 'fail';
  const width = Number(x(row.value! / row.budget!.limit)) - BAR_LEFT;
  const fill = missed ? 'fill="url(#missed)" stroke="#b3261e" stroke-width="1.5"' : 'fill="#3d6aa2"';
  const verdict = `${figureText(row.value, row.unit)} (${budgetText(row.budget)}) ${RESULT_WORD[row.status]}`;
  return [
    `  <g class="row" data-id="${escapeXml(row.id)}">`,
    `    <text x="${LABEL_RIGHT}" y="${y + 12}" text-anchor="end" ${FONT}>${escapeXml(row.name)}</text>`,
    `    <rect class="bar ${missed ? 'missed' : 'met'}" x="${BAR_LEFT}" y="${y + 2}" width="${width.toFixed(1)}" height="14" ${fill}/>`,
    `    <text x="${BAR_LEFT + BAR_WIDTH + 10}" y="${y + 12}" ${FONT}${missed ? ' font-weight="bold"' : ''}>${escapeXml(verdict)}</text>`,
    '  </g>',
  ].join('\n');
}

function axis(rows: number): string {
  const bottom = TOP + rows * ROW_HEIGHT;
  const ticks = [0, 0.5, 1, 1.5, 2].map((share) => {
    const label = share === 1 ? 'budget' : share === 0 ? '0' : `${share}×`;
    return `  <line x1="${x(share)}" y1="${bottom}" x2="${x(share)}" y2="${bottom + 4}" stroke="#555"/>\n  <text x="${x(share)}" y="${bottom + 16}" text-anchor="middle" ${FONT}>${label}</text>`;
  });
  return [
    `  <line x1="${BAR_LEFT}" y1="${bottom}" x2="${BAR_LEFT + BAR_WIDTH}" y2="${bottom}" stroke="#555"/>`,
    ...ticks,
    `  <line class="budget" x1="${x(1)}" y1="${TOP - 6}" x2="${x(1)}" y2="${bottom}" stroke="#222" stroke-width="1.5" stroke-dasharray="5 3"/>`,
  ].join('\n');
}

export function performanceSvg(results: BenchResults): string {
  const rows = chartedRows(results);
  const height = TOP + rows.length * ROW_HEIGHT + 30;
  const title = `withdraw-script-review: npm run bench of ${runDate(results)}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title">`,
    `  <title id="title">${escapeXml(`${title} on ${runMachine(results)}`)}</title>`,
    '  <defs>',
    '    <pattern id="missed" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">',
    '      <rect width="6" height="6" fill="#f6d5d2"/>',
    '      <line x1="0" y1="0" x2="0" y2="6" stroke="#b3261e" stroke-width="2.5"/>',
    '    </pattern>',
    '  </defs>',
    `  <rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `  <text x="10" y="22" font-family="sans-serif" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `  <text x="10" y="40" ${FONT}>${escapeXml(`measured in ${results.durationSeconds.toFixed(0)} s on ${runMachine(results)}`)}</text>`,
    `  <text x="10" y="60" ${FONT}>Each bar is a figure over its budget; the dashed line is the budget. A ≤ or &lt; budget is met left of the line, a ≥ budget right of it.</text>`,
    `  <text x="10" y="76" ${FONT}>Met: a solid bar. Missed: a hatched bar with a red outline, and the word “missed”. Bars past 2× the budget are cut; the figure beside them is whole.</text>`,
    ...rows.map(bar),
    axis(rows.length),
    '</svg>',
    '',
  ].join('\n');
}
