/**
 * Load (issue #7): LOAD_REQUESTS withdrawals (300 in `npm test`, 2000 in `npm run test:load`)
 * at 50 concurrent keep-alive connections through the local FC front end (`npm start`'s
 * stack: the deployable bundle, one instance serving every request concurrently) while the
 * emulator resets 1% of connections and answers 5% with a 500. Then the books: nothing
 * lost, nothing done twice, nothing leaked from one invocation to the next, memory flat.
 * One summary line with the figures goes to stderr.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { LocalStack } from '../../local/local-stack';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver';
import { startTestStack } from '../support/local-stack';
import { newRole, script, type RoleCredentials } from '../support/stack';

const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 300);
const CONCURRENCY = 50;
const WARM_UP_REQUESTS = 100;
const FAULTS = { status500Rate: 0.05, resetRate: 0.01 };
/** Every 20th script is not under review: a refusal the books must show as such. */
const isDrafted = (index: number) => index % 20 === 13;
/** Every 10th request names its own callback URL; the others must get none. */
const hasCallbackUrl = (index: number) => index % 10 === 7;
/** FC hands out a new role this many times during the run. */
const ROLE_PHASES = 4;
/** Well above a loaded CI machine's worst stall, so no answer is ever cut (that would be the ambiguous case). */
const READ_TIMEOUT_MS = 2_000;

if (!Number.isInteger(REQUESTS) || REQUESTS < 2) throw new Error(`LOAD_REQUESTS must be an integer >= 2, got ${process.env.LOAD_REQUESTS}`);

interface Sent {
  index: number;
  InstanceId: string;
  ScriptId: string;
  callbackPath?: string;
}

interface Answered {
  sent: Sent;
  status: number;
  contentType: string | undefined;
  /** The x-fc-request-id header. */
  requestId: string | undefined;
  /** Undefined when the body was not JSON; `text` then holds it. */
  body: Record<string, unknown> | undefined;
  text?: string;
  latencyMs: number;
}

interface Lost {
  sent: Sent;
  error: string;
}

/** The fields of a function log line the books need. */
interface LogLine {
  requestId: string;
  message: string;
  level: string;
  ScriptId?: string;
  Code?: string;
  Attempts?: number;
}

let stack: LocalStack & { emulator: OutboundBotEmulator };
let receiver: CallbackReceiver;
let agent: http.Agent;
const logLines: LogLine[] = [];
let restoreStdout: () => void;
/** Which key the wrapped function handed each invocation, by FC request id. */
const keyByRequestId = new Map<string, string>();
const roles: RoleCredentials[] = Array.from({ length: ROLE_PHASES }, () => newRole());

let answers: Answered[] = [];
let lost: Lost[] = [];
let elapsedMs = 0;
const heapMb: { afterWarmUp?: number; afterRun?: number } = {};
let gcAvailable = false;

/** A small seeded generator (mulberry32), so every run draws the same faults in the same order. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `global.gc`, or the same function fetched through V8's flag, or undefined when neither works. */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The heap once what the last calls hold has been let go. The SDK arms a read timer per call
 * (httpx) that its own body reader (tea-util) never clears, so each call's request and response
 * stay reachable until the timer fires, OUTBOUNDBOT_READ_TIMEOUT_MS after the call started.
 * Those timers are unref'd and cannot be observed, so we wait out that known bound.
 */
async function settledHeapMb(gc: (() => void) | undefined): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, READ_TIMEOUT_MS + 100));
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1_048_576;
}

/** The function logs to stdout as in FC; its lines are kept (as the fields the books need), not echoed. */
function captureStdout(): () => void {
  const original = process.stdout.write.bind(process.stdout);
  let pending = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      if (parsed && typeof parsed.requestId === 'string') {
        const { requestId, message, level, ScriptId, Code, Attempts } = parsed as unknown as LogLine;
        logLines.push({ requestId, message, level, ScriptId, Code, Attempts });
      } else {
        original(`${line}\n`);
      }
    }
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}

function post(sent: Sent, body: string): Promise<Answered | Lost> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port: stack.frontend.port,
        method: 'POST',
        path: '/',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const latencyMs = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> | undefined;
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = undefined;
          }
          const requestId = res.headers['x-fc-request-id'];
          resolve({
            sent,
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            requestId: typeof requestId === 'string' ? requestId : undefined,
            body,
            ...(body === undefined ? { text } : {}),
            latencyMs,
          });
        });
        res.on('error', (error) => resolve({ sent, error: String(error) }));
      },
    );
    req.on('error', (error) => resolve({ sent, error: String(error) }));
    req.end(body);
  });
}

/** `CONCURRENCY` workers, each sending its next request as soon as its previous one is answered. */
async function fire(items: Sent[]): Promise<Array<Answered | Lost>> {
  const results: Array<Answered | Lost> = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const position = next++;
      const item = items[position]!;
      const body = JSON.stringify({
        InstanceId: item.InstanceId,
        ScriptId: item.ScriptId,
        ...(item.callbackPath ? { CallbackUrl: `${receiver.origin}${item.callbackPath}` } : {}),
      });
      results[position] = await post(item, body);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

/** Scripts in one instance of their own: under review, or (every 20th) already DRAFTED. */
function prepare(count: number, label: string, withExtras: boolean): Sent[] {
  const InstanceId = `${label}-${randomUUID()}`;
  const items = Array.from({ length: count }, (_, index) => ({
    index,
    InstanceId,
    ScriptId: randomUUID(),
    ...(withExtras && hasCallbackUrl(index) ? { callbackPath: `/callbacks/${index}` } : {}),
  }));
  stack.emulator.addInstance(
    InstanceId,
    items.map((item) => script(item.ScriptId, withExtras && isDrafted(item.index) ? 'DRAFTED' : 'EXAMINE_IN_PROGRESS')),
  );
  return items;
}

const isAnswered = (result: Answered | Lost): result is Answered => 'status' in result;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

beforeAll(async () => {
  restoreStdout = captureStdout();
  stack = await startTestStack(() => undefined);
  receiver = await startCallbackReceiver();
  // The bundle reads its configuration at its first invocation, from process.env as in FC.
  process.env.CALLBACK_ALLOWED_HOSTS = '127.0.0.1';
  // Two attempts per withdrawal (not the default four), so that some withdrawals do run out
  // of retries under these fault rates and the books see every kind of outcome.
  process.env.RETRY_MAX_ATTEMPTS = '2';
  // Also how long the SDK keeps each finished call in memory (see settledHeapMb).
  process.env.OUTBOUNDBOT_READ_TIMEOUT_MS = String(READ_TIMEOUT_MS);

  // FC rotates the role now and then: the wrapped function hands each invocation the role of
  // the current phase, and remembers which, so the books can check the key each call was signed with.
  const withdraw = stack.functions.get('withdraw')!;
  for (const role of roles) stack.emulator.addCredential(role);
  const invocationsPerRole = Math.ceil((WARM_UP_REQUESTS + REQUESTS) / ROLE_PHASES);
  let invocations = 0;
  stack.functions.set('withdraw', {
    ...withdraw,
    handler: (event, context) => {
      const role = roles[Math.min(ROLE_PHASES - 1, Math.floor(invocations++ / invocationsPerRole))]!;
      keyByRequestId.set(context.requestId, role.accessKeyId);
      return withdraw.handler(event, { ...context, credentials: { ...role } });
    },
  });

  agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  stack.emulator.setRandomFaults(FAULTS, seededRandom(7));

  const gc = findGc();
  gcAvailable = gc !== undefined;
  const warmUp = await fire(prepare(WARM_UP_REQUESTS, 'warm-up', false));
  if (!warmUp.every(isAnswered)) throw new Error(`warm-up requests were lost: ${JSON.stringify(warmUp.filter((r) => !isAnswered(r)))}`);
  heapMb.afterWarmUp = await settledHeapMb(gc);

  const items = prepare(REQUESTS, 'load', true);
  const started = performance.now();
  const results = await fire(items);
  elapsedMs = performance.now() - started;
  stack.emulator.setRandomFaults({});
  heapMb.afterRun = await settledHeapMb(gc);

  answers = results.filter(isAnswered);
  lost = results.filter((r): r is Lost => !isAnswered(r));

  const latencies = answers.map((a) => a.latencyMs).sort((a, b) => a - b);
  const failures: Record<string, number> = {};
  for (const { body } of answers) {
    if (body?.Success !== true) failures[String(body?.Code)] = (failures[String(body?.Code)] ?? 0) + 1;
  }
  const round = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(1));
  // Figures for `npm run test:load`; a plain `npm test` keeps its output to the runner's lines.
  if (process.env.LOAD_REQUESTS === undefined) return;
  process.stderr.write(
    `load: requests=${REQUESTS} concurrency=${CONCURRENCY} elapsedMs=${Math.round(elapsedMs)} throughput=${((REQUESTS / elapsedMs) * 1000).toFixed(0)}req/s ` +
      `p50=${round(percentile(latencies, 50))}ms p99=${round(percentile(latencies, 99))}ms lost=${lost.length} failures=${JSON.stringify(failures)} ` +
      `upstreamWithWarmUp=${JSON.stringify(faultCounts())} heapMb(before/after)=${round(heapMb.afterWarmUp)}/${round(heapMb.afterRun)}${gcAvailable ? '' : ' (no gc)'}\n`,
  );
}, 300_000);

afterAll(async () => {
  agent?.destroy();
  await receiver?.close();
  await stack?.close();
  restoreStdout?.();
});

/** The faults the emulator played during the run (a status of 0 is a reset connection). */
function faultCounts() {
  const played = stack.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview');
  return { reset: played.filter((r) => r.status === 0).length, status500: played.filter((r) => r.status === 500).length, requests: played.length };
}

const bodyOf = (answer: Answered) => answer.body!;

describe(`load: ${REQUESTS} withdrawals at ${CONCURRENCY} connections, 5% 500s and 1% resets upstream`, () => {
  it('the faults were really played', () => {
    const { reset, status500, requests } = faultCounts();
    expect(reset).toBeGreaterThan(0);
    expect(status500).toBeGreaterThan(0);
    expect(requests).toBeGreaterThan(REQUESTS + WARM_UP_REQUESTS); // the retries
  });

  it('no request is lost: every one is answered, with JSON, and its own request id', () => {
    expect(lost).toEqual([]);
    expect(answers).toHaveLength(REQUESTS);
    for (const answer of answers) {
      expect(answer.contentType).toBe('application/json');
      expect(answer.requestId).toEqual(expect.any(String));
      expect(answer.text).toBeUndefined(); // set only when the body was not JSON
      const body = bodyOf(answer);
      expect(body).toMatchObject({ InstanceId: answer.sent.InstanceId, ScriptId: answer.sent.ScriptId, HttpStatusCode: answer.status });
      expect(body.Code).toEqual(expect.stringMatching(/^\S+$/));
    }
    expect(new Set(answers.map((a) => a.requestId)).size).toBe(REQUESTS);
  });

  it('the books balance: withdrawn exactly once, or reported failed with a Code and withdrawn never', () => {
    const outcomes = { withdrawn: 0, refused: 0, failedRetryably: 0 };
    for (const answer of answers) {
      const body = bodyOf(answer);
      const withdrawals = stack.emulator.withdrawals(answer.sent.InstanceId, answer.sent.ScriptId);
      if (body.Success === true) {
        expect({ status: answer.status, Code: body.Code, withdrawals }).toEqual({ status: 200, Code: 'OK', withdrawals: 1 });
        outcomes.withdrawn += 1;
      } else {
        expect(body.Success).toBe(false);
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(withdrawals).toBe(0);
        if (body.Retryable === true) outcomes.failedRetryably += 1;
        else outcomes.refused += 1;
      }
      if (isDrafted(answer.sent.index)) expect(body.Success).toBe(false);
    }
    // The upstream side of the books: every withdrawal the emulator performed was answered 200 and reported.
    const upstreamSuccesses = new Map<string, number>();
    for (const r of stack.emulator.requests) {
      if (r.action === 'WithdrawScriptReview' && r.status === 200) upstreamSuccesses.set(r.query.ScriptId!, (upstreamSuccesses.get(r.query.ScriptId!) ?? 0) + 1);
    }
    const reportedWithdrawn = answers.filter((a) => bodyOf(a).Success === true);
    expect(reportedWithdrawn.every((a) => upstreamSuccesses.get(a.sent.ScriptId) === 1)).toBe(true);
    expect(answers.filter((a) => upstreamSuccesses.has(a.sent.ScriptId))).toHaveLength(reportedWithdrawn.length);
    expect(outcomes.withdrawn + outcomes.refused + outcomes.failedRetryably).toBe(REQUESTS);
  });

  it('each log line belongs to its own request: one line per request, with its ScriptId, Code and Attempts', () => {
    const byRequestId = new Map<string, LogLine[]>();
    for (const line of logLines) if (line.message.startsWith('withdrawal ')) byRequestId.set(line.requestId, [...(byRequestId.get(line.requestId) ?? []), line]);
    for (const answer of answers) {
      const body = bodyOf(answer);
      const lines = byRequestId.get(answer.requestId!) ?? [];
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ ScriptId: answer.sent.ScriptId, Code: body.Code, Attempts: body.Attempts, level: body.Success ? 'info' : body.Retryable ? 'error' : 'warn' });
    }
    expect(logLines.filter((l) => l.message === 'invocation crashed')).toEqual([]);
  });

  it("a request's own CallbackUrl gets its result once, and no other request's", () => {
    const withUrl = answers.filter((a) => a.sent.callbackPath !== undefined);
    expect(withUrl.length).toBeGreaterThan(0);
    expect(receiver.deliveries).toHaveLength(withUrl.length);
    for (const answer of withUrl) {
      const body = bodyOf(answer);
      const deliveries = receiver.deliveries.filter((d) => d.path === answer.sent.callbackPath);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]!.body).toMatchObject({
        ScriptId: answer.sent.ScriptId,
        Success: body.Success,
        Code: body.Code,
        InvocationRequestId: answer.requestId,
      });
    }
  });

  it('every call upstream is signed with the role FC handed its own invocation, through every rotation', () => {
    const keysByScript = new Map<string, Set<string | undefined>>();
    for (const r of stack.emulator.requests) {
      const keys = keysByScript.get(r.query.ScriptId!) ?? new Set();
      keys.add(r.accessKeyId);
      keysByScript.set(r.query.ScriptId!, keys);
    }
    for (const answer of answers) {
      const expected = keyByRequestId.get(answer.requestId!);
      expect(expected).toBeDefined();
      expect([...(keysByScript.get(answer.sent.ScriptId) ?? [])]).toEqual([expected]);
    }
    const usedDuringRun = new Set(answers.map((a) => keyByRequestId.get(a.requestId!)));
    expect(usedDuringRun.size).toBeGreaterThanOrEqual(2);
  });

  it('memory stays flat: after the run the heap holds no more than a few KB per request', () => {
    // What legitimately stays: this test's own records of each request, the emulator's request
    // log, nonces and scripts, and the function's bounded memory of completed withdrawals
    // (10 000 at most) — about 4 KB a request in all. Keeping each request's event, response,
    // socket or SDK call (7 KB and more apiece) would break the bound.
    const growthMb = heapMb.afterRun! - heapMb.afterWarmUp!;
    const budgetMb = gcAvailable ? 1 + (REQUESTS * 6) / 1024 : 64 + (REQUESTS * 16) / 1024;
    expect(growthMb).toBeLessThan(budgetMb);
  });
});
