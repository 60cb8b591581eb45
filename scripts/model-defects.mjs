#!/usr/bin/env node
// Puts each of the six defects of issue #20 back, one at a time, in a copy of the working tree,
// and runs the model test (test/idempotency/model.test.ts) on it: each must make it fail.
// `npm run test:model:defects`; MODEL_RUNS (default 500) as for the model test. Exits 1 when a
// defect goes unnoticed, or when a patch no longer applies (the code moved: update it here).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Each defect: the lines that fix it, and what they were before the fix. */
const DEFECTS = [
  ['a reconciling read refused for good stays retryable', 'lib/withdraw/reconcile.ts', "    if (!isDefiniteRefusal(failure)) return { verdict: 'unknown', reason: failure.code };", "    return { verdict: 'unknown', reason: failure.code };"],
  ['a 5xx answer does not open the reconciliation window', 'lib/outboundbot/call.ts', 'failure.statusCode === undefined || failure.statusCode >= 500;', 'failure.statusCode === undefined;'],
  ['PUBLISHED accepted whatever the state before', 'lib/withdraw/reconcile.ts', "return statusBefore === NEW_SCRIPT_REVIEW ? { verdict: 'not-ours' } : { verdict: 'unconfirmed', script };", "return { verdict: 'ours', script };"],
  ['the carry not handed to the claim that takes a record over', 'lib/idempotency/store.ts', '  const span = unsettledAfter(previous);\n  return {', '  return record;\n  return {'],
  ['a claim whose reply was lost not given back', 'lib/idempotency/once.ts', '    await pollUntil(clock, untilMs, () => store.batch(claims).then(() => true, () => undefined));\n', ''],
  ['no store round trip kept before the answer', 'lib/withdraw/scopes.ts', '    storeTimeoutMs: cfg.IDEMPOTENCY_REDIS_URL !== undefined ? cfg.IDEMPOTENCY_TIMEOUT_MS : undefined,\n', ''],
];

const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
let unnoticed = 0;
for (const [name, file, fixed, defect] of DEFECTS) {
  const copy = mkdtempSync(path.join(tmpdir(), 'model-defect-'));
  try {
    for (const f of files) cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const source = readFileSync(path.join(copy, file), 'utf8');
    if (!source.includes(fixed)) throw new Error(`the patch for "${name}" no longer applies to ${file}`);
    writeFileSync(path.join(copy, file), source.replace(fixed, defect));
    const run = spawnSync('npx', ['vitest', 'run', 'test/idempotency/model.test.ts'], { cwd: copy, encoding: 'utf8', env: { ...process.env, MODEL_RUNS: process.env.MODEL_RUNS ?? '500' } });
    const noticed = run.status !== 0 && /Property failed/.test(run.stdout + run.stderr);
    const said = /\+ {3}"(.*?)",?$/m.exec((run.stdout + run.stderr).replace(/\x1b\[[0-9;]*m/g, ''))?.[1] ?? '';
    console.log(`${noticed ? 'caught ' : 'MISSED '} ${name}${noticed ? `: ${said.slice(0, 160)}` : ''}`);
    if (!noticed) unnoticed += 1;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
process.exit(unnoticed === 0 ? 0 : 1);
