// The dependency rule of lib/ (docs/ARCHITECTURE.md), checked on the real import graph:
// a module may import its own folder and the folders listed for it, nothing else.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/local-stack';

const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  fc: ['core'],
  outboundbot: ['core'],
  webhooks: ['core'],
  idempotency: ['core'],
  runtime: ['core', 'fc', 'outboundbot', 'webhooks', 'idempotency'],
  withdraw: ['core', 'fc', 'outboundbot', 'webhooks', 'idempotency', 'runtime'],
  cleanup: ['core', 'fc', 'outboundbot', 'webhooks', 'idempotency', 'runtime', 'withdraw/withdraw-item'],
  functions: ['core', 'fc', 'runtime', 'withdraw/service', 'cleanup/service'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Repository-relative targets of every relative import, static or dynamic, without extension. */
function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((spec) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)).replace(/\.ts$/, ''));
}

/** The layer a repository path belongs to: `lib/<folder>` or `functions`. */
function layerOf(target: string): string | undefined {
  const [top, folder] = target.split('/');
  if (top === 'functions') return 'functions';
  return top === 'lib' ? folder : undefined;
}

function violations(file: string, text: string): string[] {
  const from = layerOf(file);
  if (from === undefined) return [`${file}: not in a known layer`];
  const allowed = ALLOWED[from];
  if (allowed === undefined) return [`${file}: lib/${from} is not in the dependency rule`];
  return importsOf(file, text).flatMap((target) => {
    const to = layerOf(target);
    if (to === from && from !== 'functions') return [];
    const name = target.replace(/^lib\//, '');
    const ok = to !== undefined && allowed.some((entry) => entry === to || entry === name);
    return ok ? [] : [`${file} imports ${target}`];
  });
}

describe('the dependency rule of lib/', () => {
  const files = [...filesUnder('lib'), ...filesUnder('functions')];

  it('knows every folder of lib/', () => {
    const folders = new Set(files.filter((f) => f.startsWith('lib/')).map((f) => f.split('/')[1]));
    expect([...folders].filter((folder) => ALLOWED[folder!] === undefined)).toEqual([]);
    expect(files.length).toBeGreaterThan(30);
  });

  it('holds for every import of lib/ and functions/', () => {
    expect(files.flatMap((file) => violations(file, readFileSync(path.join(ROOT, file), 'utf8')))).toEqual([]);
  });

  it('would catch a reach across concerns (the check itself can fail)', () => {
    expect(violations('lib/core/logger.ts', "import { x } from '../webhooks/verify';")).toEqual(['lib/core/logger.ts imports lib/webhooks/verify']);
    expect(violations('lib/cleanup/service.ts', "const m = await import('../withdraw/service');")).toEqual([
      'lib/cleanup/service.ts imports lib/withdraw/service',
    ]);
    expect(violations('lib/cleanup/service.ts', "import { withdrawItem } from '../withdraw/withdraw-item';")).toEqual([]);
    expect(violations('lib/fc/events.ts', "import { isRecord } from '../core/records';")).toEqual([]);
  });
});
