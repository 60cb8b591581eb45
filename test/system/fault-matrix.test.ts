/**
 * The fault matrix (issue #7): the withdraw function, built as the handler builds it, against
 * the emulator over real HTTP, with one cloud misbehaviour per row. Every row must end in
 * exactly one of "withdrawn", "refused with a reason" or "failed retryably" — and say so the
 * same way everywhere: the HTTP answer, the event outcome (FC retries only what is thrown),
 * the log line, the callback, and the emulator's own count of withdrawals.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault, OutboundBotEmulator } from '../../emulator/outboundbot';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';
import { MAX_UPSTREAM_MESSAGE_CHARS } from '../../lib/outboundbot/upstream-text';
import type { WithdrawalItem } from '../../lib/withdraw/withdraw-item';
import { RetryableFailureError } from '../../lib/withdraw/event-path';
import type { ItemResult } from '../../lib/withdraw/results';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver';
import { httpEvent } from '../support/events';
import { MISSING, withField } from '../support/json-shapes';
import { contextFor, newRole, script, serviceFor, startTestEmulator, type RoleCredentials } from '../support/stack';

const READ_TIMEOUT_MS = 300;
const MAX_ATTEMPTS = 3;
/** With a 1 s function timeout: the 900 ms deadline less the callback's reserve (10%). */
const WORK_END_MS_1S = 810;
/** Timers may fire a millisecond or so early by performance.now(). */
const TIMER_SLACK_MS = 5;

// One receiver for every row (deliveries are told apart by ScriptId); an emulator per row, so
// that the rows, each with its own fault queue, run concurrently.
let receiver: CallbackReceiver;
/** host:port where nothing listens (a port that was just free): connections are refused. */
let closedEndpoint: string;
beforeAll(async () => {
  receiver = await startCallbackReceiver();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  closedEndpoint = `127.0.0.1:${port}`;
});
afterAll(() => receiver.close());

type Level = 'info' | 'warn' | 'error';

interface Expected {
  /** The HTTP answer's status; 200 means withdrawn. */
  status: number;
  code: string;
  /** Exact, or [min, max] where the deadline cuts an attempt (see the hang row). */
  attempts: number | readonly [number, number];
  /** Requests the emulator saw; default one per attempt. */
  upstreamRequests?: number;
  /** Failed retryably: the event invocation throws RetryableFailureError. */
  retryable: boolean;
  /** What the emulator counted for the script afterwards. */
  withdrawals: 0 | 1;
  level: Level;
  /** Time the invocation must at least have taken (read timeouts it had to sit out). */
  minMs?: number;
  /** A tighter bound than the function timeout, where the row is about speed. */
  maxMs?: number;
  /** A refusal after an unanswered attempt that DescribeScript showed was ours (lib/withdraw/reconcile.ts). */
  reconciled?: true;
}

interface Row {
  name: string;
  /** Queued in order: [fault, times]. */
  faults?: ReadonlyArray<readonly [Fault, number]>;
  /** Settings of the row; a function when they are only known once the suite runs. */
  env?: Record<string, string> | (() => Record<string, string>);
  /** context.function.timeout; the deadline is this less 10%. Default 2 s. */
  timeoutSeconds?: number;
  /** The credentials FC hands the invocation; default the emulator's valid role. */
  credentials?: (emulator: OutboundBotEmulator, role: RoleCredentials) => Partial<RoleCredentials>;
  /**
   * Withdraw another script first, so the row's first attempt goes over a reused keep-alive
   * connection (where httpx's own read timers fail, lib/outboundbot/transport.ts); checked.
   */
  warm?: true;
  expected: Expected;
}

const WITHDRAWN = { status: 200, code: 'OK', retryable: false, withdrawals: 1, level: 'info' } as const;

const ROWS: Row[] = [
  { name: 'no fault', expected: { ...WITHDRAWN, attempts: 1 } },
  { name: 'connection reset before the answer, once: retried', faults: [[{ kind: 'reset' }, 1]], expected: { ...WITHDRAWN, attempts: 2 } },
  {
    name: 'connection reset on every attempt: failed retryably, nothing withdrawn',
    faults: [[{ kind: 'reset' }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'ECONNRESET', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error' },
  },
  {
    name: 'connection refused (nothing listening): retried, failed retryably',
    env: () => ({ OUTBOUNDBOT_ENDPOINT: closedEndpoint }),
    expected: { status: 502, code: 'ECONNREFUSED', attempts: MAX_ATTEMPTS, upstreamRequests: 0, retryable: true, withdrawals: 0, level: 'error' },
  },
  {
    name: 'hang, once: cut at the read timeout, then retried',
    faults: [[{ kind: 'hang' }, 1]],
    expected: { ...WITHDRAWN, attempts: 2, minMs: READ_TIMEOUT_MS },
  },
  {
    name: 'hang on every attempt: each cut at the read timeout, failed retryably',
    faults: [[{ kind: 'hang' }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'RequestTimeout', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error', minMs: MAX_ATTEMPTS * READ_TIMEOUT_MS },
  },
  {
    // 1 s timeout: a 900 ms deadline, of which the last 90 ms are kept for the callback, so
    // the work ends at 810 ms. Two 300 ms read timeouts, then a third attempt cut short at
    // 810 ms. Timers may fire a millisecond early, which can leave room for a fourth,
    // sliver-sized attempt: hence [3, 4]. Ten attempts allowed: the deadline ends it.
    name: 'hang for longer than the deadline allows: the deadline bounds the retries',
    faults: [[{ kind: 'hang' }, 20]],
    env: { RETRY_MAX_ATTEMPTS: '10' },
    timeoutSeconds: 1,
    expected: { status: 504, code: 'DeadlineExceeded', attempts: [3, 4], retryable: true, withdrawals: 0, level: 'error', minMs: WORK_END_MS_1S },
  },
  {
    // The ambiguous case: OutboundBot withdrew the script but its answer arrives after our
    // deadline. We cannot know it happened, so it is a retryable 504; FC's redelivery then
    // meets a script no longer under review and withdraws nothing (see the redelivery test).
    name: 'slow answer crossing the deadline: withdrawn upstream, 504 and retryable',
    faults: [[{ kind: 'delay', ms: 2_000 }, 1]],
    env: { OUTBOUNDBOT_READ_TIMEOUT_MS: '10000' },
    timeoutSeconds: 1,
    expected: { status: 504, code: 'DeadlineExceeded', attempts: 1, retryable: true, withdrawals: 1, level: 'error', minMs: WORK_END_MS_1S },
  },
  {
    // The same ambiguity inside the deadline: the read timeout cuts the slow first attempt
    // (which did withdraw), and the retry is refused because the script is no longer under
    // review. Nothing is done twice, but the result is a refusal although our first attempt
    // did the work: the API gives no way to tell "we did it" from "someone else did".
    // The ambiguous attempt: withdrawn upstream, its answer lost. The retry is refused (not
    // under review); DescribeScript shows the script left review after our first attempt, so
    // that attempt was ours: reported withdrawn (Reconciled), with one extra read upstream.
    name: 'slow answer past the read timeout: the refused retry is reconciled as withdrawn',
    faults: [[{ kind: 'delay', ms: 1_000 }, 1]],
    expected: { ...WITHDRAWN, attempts: 2, upstreamRequests: 3, minMs: READ_TIMEOUT_MS, reconciled: true },
  },
  { name: '200 with a body that is not JSON, once: retried', faults: [[{ kind: 'non-json' }, 1]], expected: { ...WITHDRAWN, attempts: 2 } },
  {
    name: '200 with a body that is not JSON on every attempt: failed retryably',
    faults: [[{ kind: 'non-json' }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'InvalidResponse', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error' },
  },
  {
    name: '200 with Success: false: a definite refusal, not retried',
    faults: [[{ kind: 'success-false' }, 1]],
    expected: { status: 502, code: 'OperationFailed', attempts: 1, retryable: false, withdrawals: 0, level: 'warn' },
  },
  {
    // The SDK's errors carry the body and status, not the headers: retry-after never reaches
    // the retry policy. The retry comes after our own backoff (a few ms here), not after 2 s.
    name: '429 Throttling.User with retry-after: 2, once: retried after our backoff, not retry-after',
    faults: [[{ kind: 'status', status: 429, code: 'Throttling.User', retryAfterSeconds: 2 }, 1]],
    expected: { ...WITHDRAWN, attempts: 2, maxMs: 1_000 },
  },
  {
    name: '429 Throttling.User without retry-after on every attempt: failed retryably',
    faults: [[{ kind: 'status', status: 429, code: 'Throttling.User' }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'Throttling.User', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error' },
  },
  {
    name: '400 Throttling.User with retry-after: 1 on every attempt: retried by its code, failed retryably',
    faults: [[{ kind: 'status', status: 400, code: 'Throttling.User', retryAfterSeconds: 1 }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'Throttling.User', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error', maxMs: 1_000 },
  },
  {
    name: '503 ServiceUnavailable, once: retried',
    faults: [[{ kind: 'status', status: 503, code: 'ServiceUnavailable' }, 1]],
    expected: { ...WITHDRAWN, attempts: 2 },
  },
  {
    name: '503 ServiceUnavailable on every attempt: failed retryably, the upstream Code kept',
    faults: [[{ kind: 'status', status: 503, code: 'ServiceUnavailable' }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'ServiceUnavailable', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error' },
  },
  {
    name: 'wrong signature (a wrong role secret): refused upstream, not retried',
    credentials: (_emulator, role) => ({ ...role, accessKeySecret: 'not-the-role-secret' }),
    expected: { status: 400, code: 'SignatureDoesNotMatch', attempts: 1, retryable: false, withdrawals: 0, level: 'warn' },
  },
  {
    // The drip fault performs the withdrawal, then sends the headers and one byte every 50 ms:
    // no idle timeout ever fires. The hard deadline (the read timeout, per attempt) cuts it;
    // the retry is refused as not under review and reconciled, as for a slow answer.
    name: 'drip on a reused keep-alive connection, once: cut by the hard deadline, the refused retry reconciled as withdrawn',
    faults: [[{ kind: 'drip', intervalMs: 50 }, 1]],
    warm: true,
    expected: { ...WITHDRAWN, attempts: 2, upstreamRequests: 3, minMs: READ_TIMEOUT_MS, reconciled: true },
  },
  {
    // Every attempt drips (the retries' refusals too): each is cut at the read timeout and none
    // is a definite answer, so nothing is reconciled in this invocation. The first attempt did
    // withdraw: FC's redelivery reconciles it (see "withdrawn upstream, failed retryably" below).
    name: 'drip on every attempt (reused connection): each cut at the read timeout, failed retryably, withdrawn upstream',
    faults: [[{ kind: 'drip', intervalMs: 50 }, MAX_ATTEMPTS]],
    warm: true,
    expected: { status: 502, code: 'RequestTimeout', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 1, level: 'error', minMs: MAX_ATTEMPTS * READ_TIMEOUT_MS },
  },
  {
    // As the hang row, but each cut attempt was answered with headers: the deadline, not the
    // attempt budget, ends it, and the first attempt withdrew the script.
    name: 'drip for longer than the deadline allows (reused connection): the deadline cuts it, 504, withdrawn upstream',
    faults: [[{ kind: 'drip', intervalMs: 50 }, 20]],
    env: { RETRY_MAX_ATTEMPTS: '10' },
    timeoutSeconds: 1,
    warm: true,
    expected: { status: 504, code: 'DeadlineExceeded', attempts: [3, 4], retryable: true, withdrawals: 1, level: 'error', minMs: WORK_END_MS_1S },
  },
  {
    name: 'stall after half the body, once (reused connection): cut at the read timeout, the refused retry reconciled as withdrawn',
    faults: [[{ kind: 'stall' }, 1]],
    warm: true,
    expected: { ...WITHDRAWN, attempts: 2, upstreamRequests: 3, minMs: READ_TIMEOUT_MS, reconciled: true },
  },
  {
    name: 'stall on every attempt: each cut at the read timeout, failed retryably, withdrawn upstream',
    faults: [[{ kind: 'stall' }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'RequestTimeout', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 1, level: 'error', minMs: MAX_ATTEMPTS * READ_TIMEOUT_MS },
  },
  {
    // A gateway or WAF page is not an OutboundBot answer, but its 4xx is a refusal all the same.
    name: 'HTML 403 page (gateway or WAF): UpstreamRefused, passed through as 403, not retried',
    faults: [[{ kind: 'html-status', status: 403 }, 1]],
    expected: { status: 403, code: 'UpstreamRefused', attempts: 1, retryable: false, withdrawals: 0, level: 'warn', maxMs: 1_000 },
  },
  { name: 'HTML 502 page, once: retried', faults: [[{ kind: 'html-status', status: 502 }, 1]], expected: { ...WITHDRAWN, attempts: 2, maxMs: 1_000 } },
  {
    name: 'HTML 502 page on every attempt: failed retryably',
    faults: [[{ kind: 'html-status', status: 502 }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'InvalidResponse', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error', maxMs: 1_000 },
  },
  {
    // Every row is checked for secrets (expectNoSecrets); these two put them in upstream's Message.
    name: '400 whose Message echoes the Authorization header and STS token: refused, no secret anywhere, Message bounded',
    faults: [[{ kind: 'echo-secrets', status: 400 }, 1]],
    expected: { status: 400, code: 'InvalidParameter', attempts: 1, retryable: false, withdrawals: 0, level: 'warn', maxMs: 1_000 },
  },
  {
    name: '503 whose Message echoes the secrets on every attempt: failed retryably, the thrown error carries none',
    faults: [[{ kind: 'echo-secrets', status: 503 }, MAX_ATTEMPTS]],
    expected: { status: 502, code: 'InvalidParameter', attempts: MAX_ATTEMPTS, retryable: true, withdrawals: 0, level: 'error', maxMs: 1_000 },
  },
  {
    name: '400 with a 5 000-character Message: refused, the Message cut to its bound everywhere',
    faults: [[{ kind: 'status', status: 400, code: 'InvalidParameter', message: `Rejected: ${'x'.repeat(5_000)}` }, 1]],
    expected: { status: 400, code: 'InvalidParameter', attempts: 1, retryable: false, withdrawals: 0, level: 'warn', maxMs: 1_000 },
  },
  {
    name: 'expired STS token: refused upstream, not retried',
    credentials: (emulator) => {
      const expired = newRole();
      emulator.addCredential({ ...expired, expiresAtMs: Date.now() - 1_000 });
      return expired;
    },
    expected: { status: 400, code: 'InvalidSecurityToken.Expired', attempts: 1, retryable: false, withdrawals: 0, level: 'warn' },
  },
];

/**
 * A row's world: its own emulator with one script under review and the row's faults queued,
 * the service (callback pointed at the loopback receiver, the row's settings) and the
 * context FC would pass. A warm row first withdraws another script with the same service, so
 * its keep-alive connection is open when the faults are queued; `warmConnections` counts it.
 */
async function arrange(row: Row, trigger: 'http' | 'event', onTestFinished: (fn: () => Promise<void>) => void) {
  const { emulator, role } = await startTestEmulator();
  onTestFinished(() => emulator.close());
  const item = { InstanceId: `inst-${randomUUID()}`, ScriptId: randomUUID() };
  const warmItem = { InstanceId: item.InstanceId, ScriptId: `warm-${randomUUID()}` };
  emulator.addInstance(item.InstanceId, [script(item.ScriptId), script(warmItem.ScriptId)]);
  const { service, logs, lines } = serviceFor(emulator, {
    RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    OUTBOUNDBOT_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS),
    CALLBACK_URL: `${receiver.origin}/hooks/withdrawals`,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    ...(typeof row.env === 'function' ? row.env() : row.env),
  });
  const context = contextFor(row.credentials?.(emulator, role) ?? role, row.timeoutSeconds ?? 2, `${trigger}-${randomUUID()}`);
  let warmConnections: number | undefined;
  if (row.warm) {
    await expect(service.handle(eventOf(warmItem), contextFor(context.credentials, 2, `warm-${randomUUID()}`))).resolves.toMatchObject({ Success: true });
    warmConnections = emulator.connections;
    expect(warmConnections).toBe(1);
  }
  for (const [fault, times] of row.faults ?? []) emulator.injectFault(fault, { times, action: 'WithdrawScriptReview' });
  return { emulator, item, service, logs, lines, context, warmConnections };
}

const httpPost = (item: WithdrawalItem) => Buffer.from(JSON.stringify(httpEvent({ body: JSON.stringify(item), contentType: 'application/json' })));
const eventOf = (item: WithdrawalItem) => Buffer.from(JSON.stringify(item));

/** Runs one invocation, timing it; an event's thrown RetryableFailureError is caught and returned. */
async function timed<T>(run: () => Promise<T>): Promise<{ value: T | undefined; thrown: unknown; elapsedMs: number }> {
  const started = performance.now();
  try {
    const value = await run();
    return { value, thrown: undefined, elapsedMs: performance.now() - started };
  } catch (thrown) {
    return { value: undefined, thrown, elapsedMs: performance.now() - started };
  }
}

/** What every trigger must agree on: the result, the log line, the callback and the books. */
function expectOutcome(
  emulator: OutboundBotEmulator,
  row: Row,
  item: WithdrawalItem,
  requestId: string,
  result: ItemResult,
  elapsedMs: number,
  logs: Array<Record<string, unknown>>,
) {
  const { expected } = row;
  const success = expected.status === 200;
  expect(result).toMatchObject({ ...item, Success: success, Code: expected.code, HttpStatusCode: expected.status, Retryable: expected.retryable });
  expect(result.Reconciled).toBe(expected.reconciled);
  expect(result.Message.length).toBeLessThanOrEqual(MAX_UPSTREAM_MESSAGE_CHARS + 1);
  if (typeof expected.attempts === 'number') expect(result.Attempts).toBe(expected.attempts);
  else {
    expect(result.Attempts).toBeGreaterThanOrEqual(expected.attempts[0]);
    expect(result.Attempts).toBeLessThanOrEqual(expected.attempts[1]);
  }
  expect(emulator.requests.filter((r) => r.query.ScriptId === item.ScriptId)).toHaveLength(expected.upstreamRequests ?? result.Attempts);
  expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(expected.withdrawals);

  // Bounded by the function timeout, always; some rows bound it tighter or from below.
  expect(elapsedMs).toBeLessThan((row.timeoutSeconds ?? 2) * 1000);
  if (expected.minMs !== undefined) expect(elapsedMs).toBeGreaterThanOrEqual(expected.minMs - TIMER_SLACK_MS);
  if (expected.maxMs !== undefined) expect(elapsedMs).toBeLessThan(expected.maxMs);

  const lines = logs.filter((l) => l.requestId === requestId && l.ScriptId === item.ScriptId);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: expected.level,
    message: success ? 'withdrawal succeeded' : 'withdrawal failed',
    Success: success,
    Code: expected.code,
    HttpStatusCode: expected.status,
    Attempts: result.Attempts,
    Retryable: expected.retryable,
    callbackDelivered: true,
  });

  const deliveries = receiver.for(item.ScriptId);
  expect(deliveries).toHaveLength(1);
  expect(deliveries[0]!.path).toBe('/hooks/withdrawals');
  expect(deliveries[0]!.body).toMatchObject({ Success: success, Code: expected.code, HttpStatusCode: expected.status, Attempts: result.Attempts, InvocationRequestId: requestId, Message: result.Message });
  expect(result.Callback).toMatchObject({ Delivered: true, StatusCode: 204 });
}

/**
 * What the invocation left behind — its answer or thrown error, every log line, the callback —
 * holds no secret of the credentials it signed with, and no request signature (docs/DESIGN.md §6).
 */
function expectNoSecrets(credentials: Partial<RoleCredentials> | undefined, item: WithdrawalItem, left: { answer: unknown; thrown: unknown; lines: string[] }) {
  const thrown = left.thrown as (Error & { result?: unknown }) | undefined;
  const texts = [
    JSON.stringify(left.answer) ?? '',
    thrown ? `${thrown.message}\n${thrown.stack}\n${JSON.stringify(thrown.result)}` : '',
    ...left.lines,
    ...receiver.for(item.ScriptId).map((d) => JSON.stringify(d.body)),
  ];
  const secrets = [credentials?.accessKeySecret, credentials?.securityToken].filter((v): v is string => typeof v === 'string' && v.length > 0);
  for (const text of texts) {
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Signature=[0-9a-f]{8,}/i);
  }
}

/** A warm row's first attempt went over the warm connection; each cut one was replaced once. */
function expectConnections(emulator: OutboundBotEmulator, warmConnections: number | undefined, result: ItemResult) {
  if (warmConnections === undefined) return;
  expect(emulator.connections - warmConnections).toBe(result.Attempts - 1);
}

describe.concurrent('fault matrix: HTTP trigger', () => {
  it.for(ROWS.map((row) => [row.name, row] as const))('%s', async ([, row], { onTestFinished }) => {
    const { emulator, item, service, logs, lines, context, warmConnections } = await arrange(row, 'http', onTestFinished);
    const { value, thrown, elapsedMs } = await timed(() => service.handle(httpPost(item), context));
    expect(thrown).toBeUndefined(); // an HTTP trigger always answers
    const response = value as FcHttpResponse;
    expect(response.statusCode).toBe(row.expected.status);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'x-fc-request-id': context.requestId });
    const result = JSON.parse(response.body) as ItemResult;
    expectOutcome(emulator, row, item, context.requestId, result, elapsedMs, logs());
    expectConnections(emulator, warmConnections, result);
    expectNoSecrets(context.credentials, item, { answer: response, thrown, lines });
  });
});

describe.concurrent('fault matrix: event invocation (FC retries only what is thrown)', () => {
  it.for(ROWS.map((row) => [row.name, row] as const))('%s', async ([, row], { onTestFinished }) => {
    const { emulator, item, service, logs, lines, context, warmConnections } = await arrange(row, 'event', onTestFinished);
    const { value, thrown, elapsedMs } = await timed(() => service.handle(eventOf(item), context));
    let result: ItemResult;
    if (row.expected.retryable) {
      expect(thrown).toBeInstanceOf(RetryableFailureError);
      result = (thrown as RetryableFailureError).result as ItemResult;
    } else {
      expect(thrown).toBeUndefined();
      result = value as ItemResult;
    }
    expectOutcome(emulator, row, item, context.requestId, result, elapsedMs, logs());
    expectConnections(emulator, warmConnections, result);
    expectNoSecrets(context.credentials, item, { answer: value, thrown, lines });
  });
});

describe('the slow answer that crossed the deadline, redelivered by FC', () => {
  it('the redelivery is refused upstream, reconciled as the earlier withdrawal, and not withdrawn again', async ({ onTestFinished }) => {
    const row = ROWS.find((r) => r.name.startsWith('slow answer crossing the deadline'))!;
    const { emulator, item, service, logs, context } = await arrange(row, 'event', onTestFinished);
    await expect(service.handle(eventOf(item), context)).rejects.toBeInstanceOf(RetryableFailureError);
    expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);

    // FC's async retry: the same event under the same requestId, in a fresh invocation window.
    const redelivered = (await service.handle(eventOf(item), context)) as ItemResult;
    expect(redelivered).toMatchObject({ Success: true, HttpStatusCode: 200, Code: 'OK', Reconciled: true, Retryable: false, Attempts: 1, Script: { Status: 'DRAFTED' } });
    expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    expect(emulator.requests.filter((r) => r.query.ScriptId === item.ScriptId).map((r) => r.action)).toEqual([
      'WithdrawScriptReview',
      'WithdrawScriptReview',
      'DescribeScript',
    ]);
    expect(logs().map((l) => [l.level, l.Code, l.Reconciled])).toEqual([
      ['error', 'DeadlineExceeded', undefined],
      ['info', 'OK', true],
    ]);
    // One callback per result: the 504, then the reconciled success.
    expect(receiver.for(item.ScriptId).map((d) => [d.body.Success, d.body.Code])).toEqual([
      [false, 'DeadlineExceeded'],
      [true, 'OK'],
    ]);
  });
});

/**
 * Faults that perform the withdrawal but never let its answer arrive (slow, drip, stall) end an
 * invocation retryably with the script withdrawn upstream. FC redelivers such an event under the
 * same requestId; the idempotency record carries when the unanswered attempt started, so the
 * redelivery's refusal is reconciled as that withdrawal (lib/withdraw/withdraw-item.ts).
 */
describe.concurrent('withdrawn upstream, failed retryably: FC\'s redelivery reconciles it', () => {
  const rows = ROWS.filter((row) => row.expected.retryable && row.expected.withdrawals === 1);
  it('covers the drip, stall and slow-answer rows', () => {
    expect(rows.map((row) => row.faults?.[0]?.[0].kind).sort()).toEqual(['delay', 'drip', 'drip', 'stall']);
  });
  it.for(rows.map((row) => [row.name, row] as const))('%s', async ([, row], { onTestFinished }) => {
    const { emulator, item, service, context } = await arrange(row, 'event', onTestFinished);
    await expect(service.handle(eventOf(item), context)).rejects.toBeInstanceOf(RetryableFailureError);
    emulator.reset(); // FC redelivers later, once the fault has passed (pending faults and the request log go)
    const redelivered = (await service.handle(eventOf(item), context)) as ItemResult;
    expect(redelivered).toMatchObject({ ...item, Success: true, HttpStatusCode: 200, Code: 'OK', Reconciled: true, Retryable: false, Attempts: 1, Script: { Status: 'DRAFTED' } });
    expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    expect(emulator.requests.filter((r) => r.query.ScriptId === item.ScriptId).map((r) => r.action)).toEqual(['WithdrawScriptReview', 'DescribeScript']);
  });
});

/**
 * Malformed HTTP-shaped events (issue #13): what lib/fc/events.ts refuses at the edge. Only the
 * event path applies. FC's HTTP trigger builds the event itself, so a malformed one never comes
 * from an HTTP client: it is a hand-made or replayed event sent as a direct or async invocation,
 * with nobody waiting for a status code. It is answered as an event: a 400 InvalidParameter
 * result naming the field, returned (FC must not retry it into the failure queue), logged as
 * a refusal, never a crash, and nothing is called upstream or back.
 */
const MALFORMED_HTTP_EVENTS: ReadonlyArray<readonly [name: string, path: string[], value: unknown, named: string]> = [
  ['requestContext.http without method', ['requestContext', 'http', 'method'], MISSING, 'requestContext.http.method'],
  ['a body that is not a string', ['body'], { InstanceId: 'i', ScriptId: 's' }, 'body'],
  ['headers that are not an object of strings', ['headers'], ['content-type: application/json'], 'headers'],
  ['a header value that is not a string', ['headers', 'Content-Type'], null, 'headers.Content-Type'],
  ['isBase64Encoded that is not a boolean', ['isBase64Encoded'], 'false', 'isBase64Encoded'],
  ['a queryParameters value that is not a string', ['queryParameters', 'ScriptId'], ['a', 'b'], 'queryParameters.ScriptId'],
];

describe.concurrent('fault matrix: malformed HTTP-shaped events (event path only)', () => {
  it.for(MALFORMED_HTTP_EVENTS.map((row) => [row[0], row] as const))('%s: a 400 event result, returned, no upstream request', async ([, [, path, value, named]], { onTestFinished }) => {
    // Arranged as the no-fault row: whatever is refused here is refused by the edge, not upstream.
    const { emulator, item, service, logs, context } = await arrange(ROWS[0]!, 'event', onTestFinished);
    const event = withField(httpEvent({ body: JSON.stringify(item), contentType: 'application/json' }), path, value);
    const { value: answer, thrown, elapsedMs } = await timed(() => service.handle(Buffer.from(JSON.stringify(event)), context));
    expect(thrown).toBeUndefined();
    expect(answer).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter', RequestId: context.requestId, Issues: [{ Path: named }] });
    expect((answer as FcHttpResponse).statusCode).toBeUndefined();
    expect(emulator.requests).toHaveLength(0);
    expect(emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
    expect(logs().map((l) => [l.level, l.message, l.Code])).toEqual([['warn', 'request refused', 'InvalidParameter']]);
    expect(receiver.for(item.ScriptId)).toEqual([]);
    expect(elapsedMs).toBeLessThan(500);
  });
});
