// One warm variant in a process of its own, driven in rounds by bench/warm-rounds.ts over IPC. Each
// round makes `count` withdrawals one after another (as warm invocations arrive) and answers
// with the process's CPU (process.cpuUsage(), all threads: GC and compiler included) and wall
// time over exactly those calls. Inputs (events, contexts, queries) are built before the clock
// starts: FC builds them, not the function.
//
// Variants:
// - handler:  the built dist/withdraw bundle, a direct-invocation event (Buffer) and FC context;
//             with IDEMPOTENCY_REDIS_URL in its environment this is the store-cost variant;
// - client:   the official client alone, as the function uses it (bench/official-client.ts);
// - guarded:  the function's own OutboundBot client (lib/outboundbot/client.ts): the official one
//             behind the transport guard (hard deadline, read-timer release) and the text scrub;
// - raw:      the hand-signed request (bench/raw-request.ts) on one keep-alive socket.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { createOutboundBotClient } from '../lib/outboundbot/client';
import { fail } from './child-report';
import { fcContext, invokeEvent, type ChildTarget, type FunctionSpec } from './fc-context';
import { officialClientWithdrawal } from './official-client';
import { rawWithdraw } from './raw-request';

export type WarmVariant = 'handler' | 'client' | 'guarded' | 'raw';

export interface WarmArgs extends ChildTarget {
  variant: WarmVariant;
  /** Seeded ids are `${prefix}${n}`. */
  prefix: string;
  bundle: string;
  fn: FunctionSpec;
  readTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface RoundReply {
  calls: number;
  cpuUs: number;
  userUs: number;
  systemUs: number;
  wallMs: number;
  /** Each call's own wall time, ms, when the round asked for them (`perCall`). */
  callWallMs?: number[];
}

type Call = () => Promise<unknown>;

const args = JSON.parse(process.argv[2]!) as WarmArgs;
const { role, instanceId } = args;

function check(ok: boolean, what: unknown): void {
  if (!ok) throw new Error(`${args.variant}: withdrawal failed: ${JSON.stringify(what).slice(0, 300)}`);
}

/** Builds the calls for ids [from, from + count), before any is made. */
function prepare(): (from: number, count: number) => Call[] {
  if (args.variant === 'handler') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(args.bundle) as { handler: (event: Buffer, context: unknown) => Promise<{ Success?: boolean }> };
    return (from, count) =>
      Array.from({ length: count }, (_, k) => {
        const event = invokeEvent({ InstanceId: instanceId, ScriptId: `${args.prefix}${from + k}` });
        const context = fcContext(`bench-warm-${args.prefix}${from + k}`, role, args.fn);
        return async () => {
          const result = await handler(event, context);
          check(result.Success === true, result);
        };
      });
  }
  if (args.variant === 'guarded') {
    const client = createOutboundBotClient(role, { endpoint: role.endpoint, protocol: 'http', connectTimeoutMs: args.connectTimeoutMs });
    return (from, count) =>
      Array.from({ length: count }, (_, k) => async () => {
        const body = await client.call('WithdrawScriptReview', { InstanceId: instanceId, ScriptId: `${args.prefix}${from + k}` }, args.readTimeoutMs);
        check(body.Success === true, body);
      });
  }
  if (args.variant === 'client') {
    const withdraw = officialClientWithdrawal(role, args);
    return (from, count) => Array.from({ length: count }, (_, k) => () => withdraw(instanceId, `${args.prefix}${from + k}`));
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return (from, count) => Array.from({ length: count }, (_, k) => () => rawWithdraw(role, instanceId, `${args.prefix}${from + k}`, agent));
}

const build = prepare();

async function round(from: number, count: number, perCall: boolean): Promise<RoundReply> {
  const calls = build(from, count);
  const callWallMs: number[] = perCall ? new Array<number>(count) : [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (perCall) {
    for (let k = 0; k < count; k++) {
      const c0 = performance.now();
      await calls[k]!();
      callWallMs[k] = performance.now() - c0;
    }
  } else {
    for (const call of calls) await call();
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { calls: count, cpuUs: cpu.user + cpu.system, userUs: cpu.user, systemUs: cpu.system, wallMs, ...(perCall ? { callWallMs } : {}) };
}

/** V8's sampling profiler over chosen rounds only (bench/warm-profile.ts): the warm-up's JIT work stays out of it. */
let profiler: Session | undefined;
function profile(op: 'profile-start' | 'profile-stop', file?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null) => (error ? reject(error) : resolve());
    if (op === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      profiler.post('Profiler.enable', () => profiler!.post('Profiler.setSamplingInterval', { interval: 100 }, () => profiler!.post('Profiler.start', done)));
      return;
    }
    profiler!.post('Profiler.stop', (error, result) => {
      if (error) return done(error);
      writeFileSync(file!, JSON.stringify(result.profile));
      profiler!.disconnect();
      done(null);
    });
  });
}

type Message =
  | { id: number; op: 'round'; from: number; count: number; perCall?: boolean }
  | { id: number; op: 'exit' }
  | { id: number; op: 'profile-start' }
  | { id: number; op: 'profile-stop'; file: string };

process.on('message', (message: Message) => {
  if (message.op === 'profile-start' || message.op === 'profile-stop') {
    profile(message.op, message.op === 'profile-stop' ? message.file : undefined).then(
      () => process.send!({ id: message.id, ok: true }),
      (error: Error) => process.send!({ id: message.id, ok: false, error: error.message }),
    );
    return;
  }
  if (message.op === 'exit') {
    process.send!({ id: message.id, ok: true, maxRssKb: process.resourceUsage().maxRSS }, () => process.exit(0));
    return;
  }
  round(message.from, message.count, message.perCall === true).then(
    (reply) => process.send!({ id: message.id, ok: true, ...reply }),
    (error: Error) => process.send!({ id: message.id, ok: false, error: error.message }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', fail);
process.send!({ id: 0, ok: true, ready: true });
