// The delivery record's state machine under every interleaving fast-check can find (issue #20):
// several simulated FC instances run the real withdrawDelivery (run-once, the script lock, the
// retry policy, reconciliation) against one store, the memory store or a real redis-server,
// while answers are lost, gateways answer 5xx after the work was done, reads are refused,
// instances are killed or stalled, store replies are lost and reviewers approve scripts. Checked
// after each run: never two WithdrawScriptReview calls in flight for one script; a success only
// for a script one of our calls withdrew; never a refusal for a script the delivery's own call
// withdrew; every delivery final within MAX_INVOCATIONS; an invocation that answered holds no
// claim; an outcome lost only to a fault or a stall; every record written with a TTL within
// IDEMPOTENCY_TTL_SECONDS (and, in Redis, every key expiring); no invocation's own waits past its
// timeout. The OutboundBot here is a model, not the emulator: the scheduler must own every step
// of every call to explore their orders, and HTTP would hide them. The example tests
// (test/withdraw/reconcile.test.ts, test/withdraw/delivery-states.test.ts) run the same promises
// over HTTP. CI runs RUNS with a fixed seed; `npm run test:model` runs 20,000 (MODEL_SEED,
// MODEL_RUNS, and MODEL_DEBUG=1 for each store batch in a failure's story).
import fc from 'fast-check';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/core/clock';
import { ServiceError } from '../../lib/core/errors';
import { timelineOf } from '../../lib/fc/timeline';
import { IdempotencyStoreUnavailableError } from '../../lib/idempotency/errors';
import { createMemoryStore } from '../../lib/idempotency/memory-store';
import { createRedisStore } from '../../lib/idempotency/redis-store';
import { reclaimable, storeOf, type IdempotencyStore } from '../../lib/idempotency/store';
import { OutboundBotCallError } from '../../lib/outboundbot/errors';
import type { OutboundBotClient } from '../../lib/outboundbot/client';
import { withdrawDelivery } from '../../lib/withdraw/delivery-once';
import type { ItemResult } from '../../lib/withdraw/results';
import { createWithdrawService } from '../../lib/withdraw/service';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server';

const SEED = Number(process.env.MODEL_SEED ?? 20_261_206);
const RUNS = Number(process.env.MODEL_RUNS ?? 500);
const TIMEOUT_S = 10;
const TTL_S = 600;
const STORE_TIMEOUT_MS = 1_000;
const READ_TIMEOUT_MS = 2_000;
/** How many times FC or a sender invokes a delivery while the faults and the other deliveries contend. */
const MAX_INVOCATIONS = 8;
/** Once the faults and the contention are over, a delivery still retryable must be final within this many. */
const QUIET_INVOCATIONS = 3;
const ENV = {
  IDEMPOTENCY_REDIS_URL: 'redis://model.invalid:6379', // locks are taken only with a shared store; the model supplies it
  IDEMPOTENCY_TTL_SECONDS: String(TTL_S),
  IDEMPOTENCY_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
  OUTBOUNDBOT_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS),
  RETRY_MAX_ATTEMPTS: '4',
  RETRY_BASE_DELAY_MS: '100',
  RETRY_MAX_DELAY_MS: '400',
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'model-key',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'model-secret',
};

/** `reset`: no answer at once, nothing done; `hang`: no answer within the timeout, nothing done; `lost-after-apply`: done, no answer within the timeout. */
type UpstreamFault = 'ok' | 'reset' | 'hang' | '500' | 'lost-after-apply' | 'gateway-after-apply';
type ReadFault = 'ok' | '403' | '500';
type StoreFault = 'ok' | 'reply-lost' | 'down';

interface Scenario {
  scripts: Array<'EXAMINE_IN_PROGRESS' | 'PUBLISHED_AND_EXAMINE_IN_PROGRESS'>;
  /** Each delivery: its key and the script it names; two with one key are duplicates of one message. */
  deliveries: Array<{ key: number; script: number }>;
  upstream: UpstreamFault[];
  reads: ReadFault[];
  /** The role may not call DescribeScript at all: every read is a 403, for good. */
  readDenied: boolean;
  store: StoreFault[];
  /** Per invocation, in the order they start: kill after this many of its steps (undefined: never), and its store's latency. */
  invocations: Array<{ killAfter: number | undefined; storeLatencyMs: number }>;
  approvals: Array<{ script: number; afterMs: number }>;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  scripts: fc.array(fc.constantFrom('EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS'), { minLength: 1, maxLength: 2 }),
  deliveries: fc.array(fc.record({ key: fc.nat(2), script: fc.nat(1) }), { minLength: 1, maxLength: 3 }),
  // Now and then an upstream that hangs until the deadline: the work ends at its end, and the outcome must still fit.
  upstream: fc.oneof(
    { weight: 5, arbitrary: fc.array(fc.constantFrom<UpstreamFault>('ok', 'reset', 'hang', '500', 'lost-after-apply', 'gateway-after-apply'), { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constant<UpstreamFault[]>(['hang', 'hang', 'hang', 'hang', 'hang']) },
  ),
  reads: fc.array(fc.constantFrom<ReadFault>('ok', '403', '500'), { maxLength: 2 }),
  readDenied: fc.boolean(),
  store: fc.array(fc.constantFrom<StoreFault>('ok', 'reply-lost', 'down'), { maxLength: 3 }),
  invocations: fc.array(fc.record({ killAfter: fc.option(fc.nat(12), { nil: undefined }), storeLatencyMs: fc.constantFrom(0, 950) }), { maxLength: 4 }),
  approvals: fc.array(fc.record({ script: fc.nat(1), afterMs: fc.nat(30_000) }), { maxLength: 1 }),
});

class Killed extends Error {}

/** What the model saw, for the invariants. */
interface World {
  startMs: number;
  nowMs: number;
  /** What each invocation did, for the failure message. */
  story: string[];
  scheduler: fc.Scheduler;
  scripts: Map<string, { Status: string; UpdateTime: number }>;
  /** Withdrawals that changed a script: the delivery key and the invocation that sent them, and whether it was told so. */
  applied: Array<{ script: string; key: string; answered: boolean; by: Invocation }>;
  /**
   * WithdrawScriptReview calls: each in flight from when it was sent (`sentAt`, in the order of
   * events) until it was answered (`answeredAt`) or its timeout passed (`toMs`), whichever came first.
   */
  calls: Array<{ script: string; by: string; fromMs: number; toMs: number; sentAt: number; answeredAt: number }>;
  events: number;
  violations: string[];
  faults: { upstream: UpstreamFault[]; reads: ReadFault[]; readDenied: boolean; store: StoreFault[]; invocations: Scenario['invocations'] };
}

/** Time as the model moves it: a sleep is a step the scheduler releases, and waking moves time to its end. */
function virtualClock(world: World, invocation?: Invocation): Clock {
  return {
    nowMs: () => world.nowMs,
    sleep: async (ms) => {
      const wakeMs = world.nowMs + ms;
      await step(world, invocation, `sleep ${ms}`, wakeMs);
      world.nowMs = Math.max(world.nowMs, wakeMs);
      spend(invocation, ms);
    },
    random: () => 0.5,
  };
}

interface Invocation {
  world: World;
  name: string;
  key: string;
  /** True once a fault, a timeout or a stall (others moving the clock under it) hit it: its outcome may then be lost. */
  faulted: boolean;
  /** The time its own waits took (sleeps, store latency, timeouts): others' waits move the clock too. */
  ownMs: number;
  /** How long its steps waited past their time while others moved the clock. */
  stalledMs: number;
  /** What each of its store batches met, in order. */
  storeFaults: StoreFault[];
  /** The owner tokens of the claims it sent. */
  owners: Set<string>;
  steps: number;
  killAfter: number | undefined;
  killed: boolean;
  storeLatencyMs: number;
  endMs: number;
  answerByMs: number;
}

/**
 * Stalls an invocation may take (others moving the clock while it waits for its turn, as a
 * starved event loop would) and still be bound to store its outcome: the reserve before the
 * answer is IDEMPOTENCY_TIMEOUT_MS, and a round trip takes up to 950 ms of it.
 */
const TOLERATED_STALL_MS = 50;

/** One step of an invocation, released by the scheduler; a killed invocation takes none. */
async function step(world: World, invocation: Invocation | undefined, label: string, dueMs = world.nowMs): Promise<void> {
  alive(invocation);
  await world.scheduler.schedule(Promise.resolve(), label);
  if (invocation && (invocation.stalledMs += Math.max(0, world.nowMs - dueMs)) > TOLERATED_STALL_MS) invocation.faulted = true;
  alive(invocation);
  if (invocation && invocation.killAfter !== undefined && ++invocation.steps > invocation.killAfter) {
    invocation.killed = true;
    throw new Killed();
  }
}

/** Killed by a fault, or by FC at the invocation's end: nothing of it runs on. */
function alive(invocation: Invocation | undefined): void {
  if (invocation && (invocation.killed || invocation.world.nowMs >= invocation.endMs)) {
    invocation.killed = true;
    throw new Killed();
  }
}

function spend(invocation: Invocation | undefined, ms: number): void {
  if (invocation) invocation.ownMs += ms;
}

/** The shared store as one invocation reaches it: each batch one step, faults from the scenario, cut at the invocation's last store call. */
function storeFor(world: World, store: IdempotencyStore, invocation: Invocation): IdempotencyStore {
  return storeOf(async (ops) => {
    const sentMs = world.nowMs;
    await step(world, invocation, `store ${ops.map((op) => `${op.op} ${op.key}`).join(', ')}`);
    // Released after others moved the clock past the store's timeout: the command timed out, done or not.
    const timedOut = world.nowMs - sentMs > STORE_TIMEOUT_MS;
    for (const op of ops) if ('ttlMs' in op && !(op.ttlMs > 0 && op.ttlMs <= TTL_S * 1000)) world.violations.push(`${op.op} ${op.key} for ${op.ttlMs} ms: past IDEMPOTENCY_TTL_SECONDS`);
    const fault = world.faults.store.shift() ?? 'ok';
    if (fault !== 'ok' || timedOut) invocation.faulted = true;
    invocation.storeFaults.push(timedOut ? 'reply-lost' : fault);
    for (const op of ops) if (op.op === 'claim') invocation.owners.add(op.record.owner);
    if (fault === 'down') throw new IdempotencyStoreUnavailableError('model: the store is down');
    world.nowMs += invocation.storeLatencyMs;
    spend(invocation, invocation.storeLatencyMs);
    const answers = await settledBeforeNextStep(store.batch(ops));
    if (process.env.MODEL_DEBUG) {
      const brief = (a: unknown) => (a && typeof a === 'object' && 'claimed' in a ? `claimed=${(a as { claimed: boolean }).claimed}` : JSON.stringify(a)?.slice(0, 40));
      world.story.push(`  ${invocation.name} @${world.nowMs - world.startMs}: ${ops.map((op, i) => `${op.op} ${op.key}${'record' in op && op.record.reclaimableFromMs ? ` until ${Number(op.record.reclaimableFromMs) - world.startMs}` : ''} → ${brief(answers[i])}`).join('; ')}`);
    }
    if (fault === 'reply-lost' || timedOut || world.nowMs > invocation.answerByMs) throw new IdempotencyStoreUnavailableError('model: the reply was lost');
    return answers;
  });
}

/**
 * Real I/O (Redis) in flight while the scheduler picks the next step would make the order depend
 * on the machine's timing; each step waits for it (the scheduler's `act`), so a seed replays.
 */
const inFlightIo = new Set<Promise<unknown>>();
function settledBeforeNextStep<T>(io: Promise<T>): Promise<T> {
  inFlightIo.add(io);
  void io.finally(() => inFlightIo.delete(io)).catch(() => undefined);
  return io;
}
const quiescent = {
  act: async (release: () => Promise<void>) => {
    await release();
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // A turn of the event loop lets the released step run up to its next step or its I/O.
    for (await turn(); inFlightIo.size > 0; await turn()) await Promise.allSettled([...inFlightIo]);
  },
};

const noAnswer = () => new OutboundBotCallError('ReadTimeout', 'no answer (model)', undefined, undefined);

/**
 * OutboundBot as a model: a script under review is withdrawn to the state WITHDRAWN_TO names;
 * faults as the scenario says. A call is in flight from when it is sent until its answer, or
 * until the timeout it was sent with: an answer released later than that was never waited for.
 */
function upstreamFor(world: World, invocation: Invocation): OutboundBotClient {
  return {
    async call(action, query, timeoutMs) {
      const id = query.ScriptId!;
      alive(invocation);
      if (action === 'DescribeScript') {
        await step(world, invocation, `describe ${id}`);
        const fault = world.faults.readDenied ? '403' : (world.faults.reads.shift() ?? 'ok');
        if (fault === '403') throw new OutboundBotCallError('Forbidden.RAM', 'not allowed (model)', 403, 'rid');
        if (fault === '500') throw new OutboundBotCallError('InternalError', 'model', 500, 'rid');
        return { Success: true, Script: { ScriptId: id, ...world.scripts.get(id)! } };
      }
      const call = { script: id, by: invocation.name, fromMs: world.nowMs, toMs: world.nowMs + timeoutMs, sentAt: ++world.events, answeredAt: Infinity };
      if (process.env.MODEL_DEBUG) world.story.push(`  ${invocation.name} @${world.nowMs - world.startMs}: withdraw ${id} for ${timeoutMs} ms`);
      world.calls.push(call);
      try {
        await step(world, invocation, `withdraw ${id}`);
      } finally {
        call.answeredAt = ++world.events;
      }
      const late = world.nowMs > call.toMs;
      const answer = withdrawOnModel(world, invocation, id, timeoutMs, late);
      if (late) throw noAnswer();
      return answer;
    },
  };
}

function withdrawOnModel(world: World, invocation: Invocation, id: string, timeoutMs: number, late: boolean) {
  const fault = world.faults.upstream.shift() ?? 'ok';
  if (fault === 'reset') throw noAnswer();
  if (fault === 'hang') {
    world.nowMs += timeoutMs;
    spend(invocation, timeoutMs);
    throw noAnswer();
  }
  if (fault === '500') throw new OutboundBotCallError('InternalError', 'model', 500, 'rid');
  const script = world.scripts.get(id)!;
  const next = { EXAMINE_IN_PROGRESS: 'DRAFTED', PUBLISHED_AND_EXAMINE_IN_PROGRESS: 'PUBLISHED' }[script.Status];
  if (next === undefined) throw new OutboundBotCallError('OperationDenied.ScriptNotUnderReview', 'not under review (model)', 400, 'rid');
  Object.assign(script, { Status: next, UpdateTime: world.nowMs });
  world.applied.push({ script: id, key: invocation.key, answered: fault === 'ok' && !late, by: invocation });
  if (fault === 'lost-after-apply') {
    world.nowMs += timeoutMs;
    spend(invocation, timeoutMs);
    throw noAnswer();
  }
  if (fault === 'gateway-after-apply') throw new OutboundBotCallError('InvalidResponse', 'a 502 page (model)', 502, undefined);
  return { Success: true, Code: 'OK', Message: 'Success', RequestId: 'rid', Script: { ScriptId: id, ...script } };
}

type Outcome = { final: true; result: ItemResult | ServiceError } | { final: false };

/** One invocation of the withdraw function on an instance of its own, for one delivery. */
async function invoke(world: World, shared: IdempotencyStore, key: string, scriptId: string, n: number): Promise<{ outcome: Outcome; invocation: Invocation; lost: string | undefined }> {
  const plan = world.faults.invocations[n] ?? { killAfter: undefined, storeLatencyMs: 0 };
  const startMs = world.nowMs;
  const context = { requestId: `${key}#${n}`, function: { timeout: TIMEOUT_S } };
  const { endMs, answerByMs } = timelineOf(startMs, context);
  const invocation: Invocation = { world, name: context.requestId, key, ownMs: 0, stalledMs: 0, storeFaults: [], owners: new Set(), steps: 0, killAfter: plan.killAfter, killed: false, storeLatencyMs: plan.storeLatencyMs, faulted: plan.killAfter !== undefined, endMs, answerByMs };
  const lines: string[] = [];
  const service = createWithdrawService({ env: ENV, clock: virtualClock(world, invocation), write: (line) => lines.push(line) });
  const { instance } = service;
  const store = storeFor(world, shared, invocation);
  instance.state = { ...instance.state, client: () => upstreamFor(world, invocation), invocationStore: async () => store };
  const item = { InstanceId: 'model', ScriptId: scriptId };
  let outcome: Outcome;
  try {
    const { results } = await withdrawDelivery({ key, payload: item, items: [item], callbackUrl: undefined }, service.openScope(context), instance);
    outcome = results[0]!.Retryable ? { final: false } : { final: true, result: results[0]! };
  } catch (error) {
    if (error instanceof Killed) outcome = { final: false };
    else if (error instanceof ServiceError) outcome = error.retryable ? { final: false } : { final: true, result: error };
    else throw error;
  }
  await claimsLetGo(world, shared, invocation, key);
  if (invocation.ownMs > TIMEOUT_S * 1000) world.violations.push(`${context.requestId} waited ${invocation.ownMs} ms of its own, past its ${TIMEOUT_S} s`);
  // An answer after the invocation's end, or from an invocation killed on the way (a kill the code
  // caught, as a lost store write), never reached anyone: FC retries it.
  if (world.nowMs >= endMs || invocation.killed) outcome = { final: false };
  return { outcome, invocation, lost: lines.find((line) => line.includes('idempotency record not updated')) };
}

/**
 * An invocation that answered holds no claim any more, even when the reply to its claim was lost
 * (the claim may have been written): else every retry meets it and is told 409 until it lapses.
 * Only a store that failed again (the give-back lost too) may leave one behind.
 */
async function claimsLetGo(world: World, store: IdempotencyStore, invocation: Invocation, key: string): Promise<void> {
  if (invocation.killed || invocation.storeFaults.filter((fault) => fault !== 'ok').length !== 1 || invocation.storeFaults[0] !== 'reply-lost') return;
  const left = await settledBeforeNextStep(store.read(`delivery:${key}`));
  if (left !== undefined && invocation.owners.has(left.owner) && !reclaimable(left, left.fingerprint, world.nowMs)) world.violations.push(`${invocation.name} answered, and its claim whose reply was lost still holds ${key} (${invocation.storeFaults.join(", ")}; ${JSON.stringify(left)})`);
}

/** A delivery as FC or a sender retries it: invoked until final, each retry after the last one ended. */
async function deliver(world: World, shared: IdempotencyStore, key: string, scriptId: string, counter: { n: number }, invocations = MAX_INVOCATIONS): Promise<Outcome> {
  for (let attempt = 0; attempt < invocations; attempt++) {
    const { outcome, invocation, lost } = await invoke(world, shared, key, scriptId, counter.n++);
    const how = outcome.final ? (outcome.result instanceof ServiceError ? outcome.result.code : outcome.result.Code) : invocation.killed ? 'killed' : 'retryable';
    world.story.push(`${invocation.name} ${invocation.endMs - TIMEOUT_S * 1000 - world.startMs}→${world.nowMs - world.startMs} ms: ${how}`);
    if (lost && !invocation.faulted && !invocation.killed && invocation.storeLatencyMs <= STORE_TIMEOUT_MS) world.violations.push(`${key}: the outcome was not stored though the store answered within its timeout: ${lost}`);
    if (outcome.final) return outcome;
    // FC retries a killed invocation once its time is over; a retryable answer a moment later.
    await virtualClock(world).sleep(invocation.killed ? invocation.endMs - world.nowMs + 1 : 1_000);
  }
  return { final: false };
}

function check(world: World, outcomes: Array<{ key: string; script: string; outcome: Outcome }>): void {
  for (const { key, script, outcome } of outcomes) {
    if (!outcome.final) {
      world.violations.push(`${key} on ${script} never became final, even in ${QUIET_INVOCATIONS} invocations after the faults were over`);
      continue;
    }
    const result = outcome.result;
    if (result instanceof ServiceError) continue;
    const ours = world.applied.filter((a) => a.script === script);
    if (result.Success && ours.length === 0) world.violations.push(`${key} reported ${script} withdrawn, but no withdrawal of ours changed it`);
    // A change another delivery was answered for is that delivery's withdrawal, never reconciled as this one's.
    // Answered, and its invocation lived to store what it did (a kill or a lost write loses the mark).
    const answeredToOther = world.applied.some((a) => a.script === script && a.key !== key && a.answered && !a.by.killed && !a.by.faulted);
    if (result.Reconciled && answeredToOther && !ours.some((a) => a.key === key)) world.violations.push(`${key} reconciled ${script} as its own withdrawal, which another delivery was answered for`);
    if (!result.Success && result.Code === 'OperationDenied.ScriptNotUnderReview' && ours.some((a) => a.key === key)) {
      world.violations.push(`${key} reported a refusal for ${script}, which its own call withdrew`);
    }
  }
  if (world.applied.length > new Set(world.applied.map((a) => a.script)).size) world.violations.push('a script was withdrawn twice');
  for (const a of world.calls) {
    for (const b of world.calls) {
      if (a !== b && a.script === b.script && a.sentAt < b.sentAt && b.sentAt < a.answeredAt && b.fromMs < a.toMs) {
        const span = (c: typeof a) => `${c.by} sent at ${c.fromMs - world.startMs} ms for ${c.toMs - c.fromMs} ms`;
        world.violations.push(`two WithdrawScriptReview calls in flight for ${a.script}: ${span(a)} and ${span(b)}`);
      }
    }
  }
}

async function runScenario(scheduler: fc.Scheduler, scenario: Scenario, open: (nowMs: () => number) => IdempotencyStore): Promise<World> {
  const world: World = {
    startMs: Date.UTC(2026, 11, 6),
    nowMs: Date.UTC(2026, 11, 6),
    story: [],
    scheduler,
    scripts: new Map(scenario.scripts.map((Status, i) => [`s${i}`, { Status, UpdateTime: Date.UTC(2026, 10, 1) }])),
    applied: [],
    calls: [],
    events: 0,
    violations: [],
    faults: { upstream: [...scenario.upstream], reads: [...scenario.reads], readDenied: scenario.readDenied, store: [...scenario.store], invocations: scenario.invocations },
  };
  const shared = open(() => world.nowMs);
  const counter = { n: 0 };
  const deliveries = scenario.deliveries.map(async (d) => {
    const script = `s${Math.min(d.script, scenario.scripts.length - 1)}`;
    const key = `k${d.key}`;
    return { key, script, outcome: await deliver(world, shared, `${key}:${script}`, script, counter) };
  });
  const approvals = scenario.approvals.map(async ({ script, afterMs }) => {
    await virtualClock(world).sleep(afterMs);
    const approved = world.scripts.get(`s${Math.min(script, scenario.scripts.length - 1)}`)!;
    if (approved.Status.endsWith('EXAMINE_IN_PROGRESS')) Object.assign(approved, { Status: 'PUBLISHED', UpdateTime: world.nowMs });
  });
  const [contended] = await scheduler.waitFor(Promise.all([Promise.all(deliveries), Promise.all(approvals)]));
  // Faults and duplicates may keep a delivery retryable past MAX_INVOCATIONS (FC would park it);
  // once they are over, its next retries, one delivery at a time, must finish it.
  world.faults.upstream.length = world.faults.reads.length = world.faults.store.length = 0;
  counter.n = Math.max(counter.n, scenario.invocations.length);
  const outcomes = [];
  for (const o of contended) {
    const key = `${o.key}:${o.script}`;
    outcomes.push({ ...o, key, outcome: o.outcome.final ? o.outcome : await scheduler.waitFor(deliver(world, shared, key, o.script, counter, QUIET_INVOCATIONS)) });
  }
  check(world, outcomes);
  return world;
}

let redis: RedisServer | undefined;
beforeAll(async () => {
  if (redisAvailable) redis = await startRedis();
});
afterAll(async () => redis?.stop());

/** Each store, opened per run on the model's clock; the Redis one on a key prefix of its own, and every key it wrote must expire. */
const stores: Array<[string, () => { open(nowMs: () => number): IdempotencyStore; close(): Promise<void> }, boolean]> = [
  ['memory', () => ({ open: (nowMs) => createMemoryStore({ nowMs }), close: async () => {} }), true],
  [
    'redis',
    () => {
      const prefix = `m${Math.random().toString(36).slice(2)}:`;
      const store = createRedisStore({ url: redis!.url, timeoutMs: 2_000, keyPrefix: prefix });
      return {
        open: () => store,
        close: async () => {
          const inspect = new Redis(redis!.url);
          try {
            for (const key of await inspect.keys(`${prefix}*`)) expect(await inspect.pttl(key), key).toBeGreaterThan(0);
          } finally {
            inspect.disconnect();
            await store.close();
          }
        },
      };
    },
    redisAvailable,
  ],
];

describe.each(stores)('the delivery record over the %s store, under every interleaving', (_, make, available) => {
  it.runIf(available)('never calls twice at once, never reports a withdrawal not ours or a refusal of our own, always finishes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(quiescent), scenarioArb, async (scheduler, scenario) => {
        const made = make();
        try {
          const world = await runScenario(scheduler, scenario, made.open);
          expect(world.violations, [...world.story, scheduler.report().map((task) => task.label).join(' → ')].join('\n')).toEqual([]);
        } finally {
          await made.close();
        }
      }),
      // MODEL_PATH replays one failure fast-check reported (with its seed), shrunk as it was.
      { seed: SEED, numRuns: RUNS, ...(process.env.MODEL_PATH ? { path: process.env.MODEL_PATH, endOnFailure: true } : {}) },
    );
  }, Math.max(120_000, RUNS * 60));
});
