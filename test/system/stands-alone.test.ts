// A clone with nothing beside it must build, test and document itself: no code, test, script
// or page of the repository may reach outside it (for example into a sibling shared/ folder).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/local-stack';

const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file !== 'test/system/stands-alone.test.ts')
  .filter((file) => /\.(ts|mts|mjs|cjs|js|json|ya?ml|md|sh)$|^\.ci\//.test(file) && file !== 'package-lock.json');

/** A path that climbs out of the repository root from the file that names it. */
function escapes(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\.\.\/)+[A-Za-z_][\w.-]*/g)) {
    const target = path.resolve(ROOT, path.dirname(file), match[0]);
    if (!target.startsWith(ROOT + path.sep)) found.push(match[0]);
  }
  if (/\bshared\/(?:reference|DESIGN\.md)/.test(text)) found.push('shared/…');
  return found;
}

describe('the repository stands alone', () => {
  it('finds files to check', () => {
    expect(tracked.length).toBeGreaterThan(50);
    expect(tracked).toContain('test/support/events.ts');
  });

  it('names no path outside the repository in code, tests, scripts, data or docs', () => {
    const offenders = tracked.flatMap((file) => escapes(file, readFileSync(path.join(ROOT, file), 'utf8')).map((p) => `${file}: ${p}`));
    expect(offenders).toEqual([]);
  });

  it('flags a path that climbs out (the check itself can fail)', () => {
    expect(escapes('test/support/events.ts', "path.resolve(__dirname, '../../../shared/reference/events')")).not.toEqual([]);
    expect(escapes('README.md', 'see ../shared/DESIGN.md')).not.toEqual([]);
    expect(escapes('test/support/events.ts', "path.resolve(__dirname, '../fixtures/events')")).toEqual([]);
  });
});
