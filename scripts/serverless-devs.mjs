// Running the project's `s` (Serverless Devs) for the npm scripts that wrap it: each run gets a
// trace id of ours, so its log folder (<s home>/logs/<trace id>) is known; the secrets the
// deploying shell hands s.yaml are masked in that folder once s is done, since s writes the
// rendered environment there in clear.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Where s keeps its access keys, components, settings and logs. */
export const sHome = (env) => env.serverless_devs_config_home || path.join(env.HOME ?? os.homedir(), '.s');

/** The values of the deploying shell that s.yaml takes and that must not be shown: each whole, and a Redis URL's password. */
export function secretsOf(env) {
  const values = [env.CALLBACK_SECRET, env.ALIBABA_CLOUD_ACCESS_KEY_SECRET, env.ALIBABA_CLOUD_SECURITY_TOKEN, env.IDEMPOTENCY_REDIS_URL, ...(env.WEBHOOK_SECRET ?? '').split(/[\s,]+/)];
  try {
    const password = env.IDEMPOTENCY_REDIS_URL ? new URL(env.IDEMPOTENCY_REDIS_URL).password : '';
    if (password) values.push(password, decodeURIComponent(password));
  } catch {
    // Not a URL: the function refuses it at start; the whole value is masked anyway.
  }
  // Longest first, so that a secret inside another is not left half shown.
  return [...new Set(values.map((v) => v?.trim()).filter((v) => v && v.length >= 6))].sort((a, b) => b.length - a.length);
}

export const masked = (text, secrets) => secrets.reduce((out, secret) => out.split(secret).join('***'), text);

function maskRunLogs(home, traceId, secrets) {
  const dir = path.join(home, 'logs', traceId);
  if (!existsSync(dir) || secrets.length === 0) return;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const text = readFileSync(file, 'utf8');
    const clean = masked(text, secrets);
    if (clean !== text) writeFileSync(file, clean);
  }
}

/**
 * `s <args>` from the project's node_modules, its terminal untouched unless `capture` (then its
 * output is returned, not shown). Resolves the exit code, the log folder's trace id and s's home.
 */
export function runS(args, { capture = false, env = process.env } = {}) {
  const traceId = `npm-${args[0]}-${Date.now()}-${randomBytes(4).toString('hex')}`;
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 's'), args, {
    stdio: capture ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    env: { ...env, serverless_devs_traceid: traceId },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const home = sHome(env);
  maskRunLogs(home, traceId, secretsOf(env));
  return { code: run.status ?? 1, traceId, home, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}

/** The messages s recorded for a failed run. */
export function errorMessages(home, traceId) {
  try {
    return JSON.parse(readFileSync(path.join(home, 'logs', traceId, 'error.json'), 'utf8')).map((e) => String(e?.message ?? ''));
  } catch {
    return [];
  }
}
