// What every measured row starts from: the emulator process with a fresh STS-shaped role and
// every review the run will withdraw, the deployed functions' environment, and the memory cgroup
// of the deployed size where this machine allows one.
import { randomBytes } from 'node:crypto';
import { COLD_DISCARD, COLD_RUNS, COLD_VARIANTS, BATCH_RUNS, BATCHES, BATCH_SIZE, INSTANCE_BATCH, INSTANCE_HOT, WARM_CALLS, WARM_ROUNDS, WARM_WARMUP, WITHDRAW_BUNDLE } from './config';
import type { DeployedFunction } from './deployment';
import type { RecordsReply, ScriptGroup } from './emulator-process';
import type { InstanceCgroup } from './fc-instance';
import type { IpcChild } from './processes';
import type { RawTarget } from './raw-request';
import { ROUND_TRIP_PREFIX, ROUND_TRIP_SEEDED } from './store-round-trips';

export type Wrap = (command: string, args: string[]) => [string, string[]];
export type Deployed = { withdraw: DeployedFunction; cleanup: DeployedFunction };

export interface Bench {
  emulator: IpcChild;
  role: Required<RawTarget>;
  deployed: Deployed;
  /** The environment a function child gets: the deployed literals, the emulator as endpoint. */
  env(fn: 'withdraw' | 'cleanup', extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A memory cgroup of the deployed size for the memory rows, where this machine allows one. */
  instance?: InstanceCgroup;
}

/**
 * Without a memory cgroup the budgeted RSS runs are unconstrained, and V8 sizes its young
 * generation from the machine's memory (16 MB semi-spaces on a machine of gigabytes), far more
 * than on a 128 MB instance; then the information run approximates the instance with this flag.
 */
export const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=1'];

/** The other memory run beside the budgeted one: unconstrained when the budgeted one ran in the cgroup, else the flag. */
export function comparisonRun(bench: Bench): { label: string; nodeFlags: string[] } {
  return bench.instance ? { label: 'unconstrained', nodeFlags: [] } : { label: `with ${SMALL_YOUNG_GENERATION.join(' ')}`, nodeFlags: SMALL_YOUNG_GENERATION };
}

/** Where the budgeted memory runs ran. */
export function instanceNote(bench: Bench): string {
  return bench.instance ? ` in a ${bench.instance.limitMb} MB ${bench.instance.kind}` : ', unconstrained (no memory cgroup here)';
}

export async function emulatorRecords(bench: Bench): Promise<RecordsReply> {
  return bench.emulator.ask<RecordsReply>({ op: 'records' });
}

/** What every withdraw-side child gets: the role, the hot instance, the bundle, and the deployed function's limits and timeouts. */
export function withdrawTarget(bench: Bench) {
  const withdrawEnv = bench.deployed.withdraw.env;
  return {
    role: bench.role,
    instanceId: INSTANCE_HOT,
    bundle: WITHDRAW_BUNDLE,
    fn: bench.deployed.withdraw.fn,
    readTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_READ_TIMEOUT_MS ?? 10_000),
    connectTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_CONNECT_TIMEOUT_MS ?? 3_000),
  };
}

/** A function child's environment: the deployed literals, the emulator as endpoint, Redis only when asked for. */
function childEnv(deployed: Deployed, fn: 'withdraw' | 'cleanup', extra: Record<string, string> = {}, endpoint = ''): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...deployed[fn].env, OUTBOUNDBOT_ENDPOINT: endpoint, OUTBOUNDBOT_PROTOCOL: 'http', ...extra };
  if (!extra.IDEMPOTENCY_REDIS_URL) delete env.IDEMPOTENCY_REDIS_URL;
  return env;
}

/** A fresh STS-shaped role for this run, known to the emulator only. */
function benchRole(endpoint: string): Required<RawTarget> {
  return {
    endpoint,
    accessKeyId: `STS.Bench${randomBytes(6).toString('hex')}`,
    accessKeySecret: randomBytes(24).toString('base64'),
    securityToken: `CAIS${randomBytes(48).toString('base64')}`,
  };
}

const review = (prefix: string, count: number): ScriptGroup => ({ prefix, count, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 0 });

/** Every review the cold, warm and batch runs withdraw, each exactly once. */
async function seedReviews(emulator: IpcChild): Promise<void> {
  const warmIds = WARM_WARMUP + WARM_ROUNDS * WARM_CALLS;
  const hot = [
    ...COLD_VARIANTS.map((variant) => review(`cold-${variant}-`, COLD_DISCARD + COLD_RUNS)),
    ...['handler', 'client', 'guarded', 'raw', 'redis'].map((v) => review(`warm-${v}-`, warmIds)),
    review(ROUND_TRIP_PREFIX, ROUND_TRIP_SEEDED),
  ];
  await emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_HOT, groups: hot } });
  await emulator.ask({ op: 'seed', seed: { instanceId: INSTANCE_BATCH, groups: [review('batch-', (BATCH_RUNS + 1) * BATCHES * BATCH_SIZE)] } });
}

export async function setUpBench(emulator: IpcChild, deployed: Deployed, instance: InstanceCgroup | undefined): Promise<Bench> {
  const { endpoint } = (await emulator.ready) as { endpoint: string };
  const role = benchRole(endpoint);
  await emulator.ask({ op: 'credential', credential: role });
  await seedReviews(emulator);
  return { emulator, role, deployed, env: (fn, extra) => childEnv(deployed, fn, extra, endpoint), instance };
}
