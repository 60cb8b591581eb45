/**
 * docs/PERFORMANCE.md's figures table and docs/performance.svg are drawn by the bench's report
 * (bench/report.ts) from bench/results.json: the committed docs must be exactly what the
 * committed results draw (`node build/bench.js --report-only` redraws them), and the chart must be
 * well-formed XML with one bar per budgeted row, missed ones marked by more than colour.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawnDocs, PERFORMANCE_DOC, PERFORMANCE_SVG, readResults } from '../../bench/report';
import { TABLE_END, TABLE_START } from '../../bench/report-table';
import { ROOT } from '../support/local-stack';

const results = readResults(ROOT);
const drawn = drawnDocs(results, ROOT);
const committedSvg = readFileSync(path.join(ROOT, PERFORMANCE_SVG), 'utf8');

/**
 * Well-formedness as XML 1.0 requires it of this kind of file: one root, every tag closed in
 * order, attributes quoted, `&` only in entity references, no `<` in text. Throws saying where.
 */
function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const tokens = xml.split(/(<[^>]*>)/);
  for (const token of tokens) {
    if (!token.startsWith('<')) {
      if (token.includes('<') || token.includes('>') || /&(?!(amp|lt|gt|quot|apos|#\d+|#x[\da-f]+);)/i.test(token)) throw new Error(`bad text: ${token.slice(0, 60)}`);
      if (stack.length === 0 && token.trim()) throw new Error(`text outside the root: ${token.slice(0, 60)}`);
      continue;
    }
    const tag = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!tag) throw new Error(`malformed tag: ${token.slice(0, 80)}`);
    const [, closing, name, attributes, selfClosing] = tag;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[\da-f]+);)/i.test(attributes!)) throw new Error(`bare & in ${token.slice(0, 80)}`);
    if (closing) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes nothing open`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)}> never closed`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

describe('docs/PERFORMANCE.md and docs/performance.svg, drawn from bench/results.json', () => {
  it('the committed table is exactly what the committed results draw (run node build/bench.js --report-only after changing either)', () => {
    expect(readFileSync(path.join(ROOT, PERFORMANCE_DOC), 'utf8')).toBe(drawn.markdown);
  });

  it('the committed chart is exactly what the committed results draw', () => {
    expect(committedSvg).toBe(drawn.svg);
  });

  it('the table lists every row of the results once, with its result, between the markers', () => {
    const table = drawn.markdown.slice(drawn.markdown.indexOf(TABLE_START), drawn.markdown.indexOf(TABLE_END));
    const lines = table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| row ') && !line.startsWith('| ---'));
    expect(lines).toHaveLength(results.rows.length);
    results.rows.forEach((row, i) => {
      expect(lines[i]!.startsWith(`| ${row.name.replace(/\|/g, '\\|')} |`), row.id).toBe(true);
      expect(lines[i], row.id).toMatch(row.status === 'fail' ? /\| \*\*missed\*\* \|/ : row.status === 'pass' ? /\| met \|/ : /\| (information|skipped|not measurable) \|/);
    });
    expect(table).toContain(results.date.slice(0, 10));
  });

  it('the chart is well-formed XML with a title naming the date and the machine', () => {
    expect(() => checkWellFormed(committedSvg)).not.toThrow();
    const title = /<title[^>]*>([^<]*)<\/title>/.exec(committedSvg)?.[1];
    expect(title).toContain(results.date.slice(0, 10));
    expect(title).toContain(results.machine.node);
    expect(title).toContain(String(results.machine.cpuModel));
  });

  it('has one bar per budgeted row (every budget with a limit), hatched and worded when missed', () => {
    const budgeted = results.rows.filter((r) => r.budget !== null && r.budget.limit !== 0 && r.value !== null);
    expect(budgeted.length).toBeGreaterThanOrEqual(10);
    const bars = [...committedSvg.matchAll(/<g class="row" data-id="([^"]+)">([\s\S]*?)<\/g>/g)];
    expect(bars.map((m) => m[1])).toEqual(budgeted.map((r) => r.id));
    for (const [, id, body] of bars) {
      const row = budgeted.find((r) => r.id === id)!;
      expect(body!.match(/<rect class="bar /g), id).toHaveLength(1);
      if (row.status === 'fail') {
        expect(body, id).toMatch(/<rect class="bar missed"[^>]*fill="url\(#missed\)"/);
        expect(body, id).toMatch(/missed<\/text>/);
      } else {
        expect(body, id).toMatch(/<rect class="bar met"[^>]*fill="#[\da-f]{6}"/);
        expect(body, id).toMatch(/ met<\/text>/);
      }
    }
  });

  it('the well-formedness check refuses what an XML parser would (it can fail)', () => {
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow(/closes nothing/);
    expect(() => checkWellFormed('<svg><text>a & b</text></svg>')).toThrow(/bad text/);
    expect(() => checkWellFormed('<svg><rect x=1/></svg>')).toThrow(/malformed tag/);
    expect(() => checkWellFormed('<svg/><svg/>')).toThrow(/2 root/);
  });
});
