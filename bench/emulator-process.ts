// The emulator in a process of its own, as the real gateway is: its work does not share the
// measured process's CPU. Driven over IPC by the bench (bench/setup.ts and the row modules): each message carries an `id` and
// gets exactly one reply with the same `id`.
//
// It also measures what it really adds to each request (service time: from the request's
// headers being parsed to the answer being handed to the kernel: the configured latency, the
// timer's lateness and its own work, queueing behind other requests included), through Node's
// built-in http diagnostics channels, so the emulator itself needs no bench hook.
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startEmulator, type EmulatorScript, type OutboundBotEmulator } from '../emulator/outboundbot';
import { summarize, type Summary } from './stats';

/** Scripts `${prefix}${i}` for i in [0, count), all in `status`, last updated `ageMinutes` ago. */
export interface ScriptGroup {
  prefix: string;
  count: number;
  status: string;
  ageMinutes: number;
}

export interface SeedSpec {
  instanceId: string;
  /** Interleaved round-robin in list order, so that one kind never sits in a block of pages. */
  groups: ScriptGroup[];
}

export type EmulatorRequest =
  | { op: 'credential'; credential: { accessKeyId: string; accessKeySecret: string; securityToken: string } }
  | { op: 'seed'; seed: SeedSpec }
  | { op: 'latency'; ms: number }
  | { op: 'disable'; actions: string[] }
  /** Forgets the request records and the service times (scripts, credentials stay). */
  | { op: 'reset' }
  | { op: 'records' }
  | { op: 'close' };

export interface RecordsReply {
  /** Requests by action, every answer included. */
  byAction: Record<string, number>;
  /** Requests by `action status code`, e.g. `QueryScriptsByStatus 404 InvalidAction.NotFound`. */
  byOutcome: Record<string, number>;
  /** Service time by action, ms. */
  serviceMs: Record<string, Summary & { sum: number }>;
  /** TCP connections accepted since the emulator started. */
  connections: number;
  /** Most requests of each action in service at once: what the client's limiter really let through. */
  maxInFlight: Record<string, number>;
}

export function seedScripts(spec: SeedSpec, nowMs: number): EmulatorScript[] {
  const scripts: EmulatorScript[] = [];
  const longest = Math.max(0, ...spec.groups.map((g) => g.count));
  for (let i = 0; i < longest; i++) {
    for (const g of spec.groups) {
      if (i >= g.count) continue;
      // A second apart, so that the cleanup's oldest-first order is a real sort.
      scripts.push({ ScriptId: `${g.prefix}${i}`, ScriptName: `bench ${g.prefix}${i}`, Status: g.status, UpdateTime: nowMs - g.ageMinutes * 60_000 - i * 1000 });
    }
  }
  return scripts;
}

/** Service time by action, ms, since the last reset. */
interface ServiceTimes {
  byAction: Record<string, number[]>;
  inFlight: Record<string, number>;
  maxInFlight: Record<string, number>;
}

/** Times every request through Node's built-in http diagnostics channels: no hook in the emulator. */
function trackServiceTimes(): ServiceTimes {
  const started = new WeakMap<IncomingMessage, number>();
  const times: ServiceTimes = { byAction: {}, inFlight: {}, maxInFlight: {} };
  const actionOf = (request: IncomingMessage) => String(request.headers['x-acs-action'] ?? '');
  diagnostics.subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage };
    started.set(request, performance.now());
    const action = actionOf(request);
    const now = (times.inFlight[action] = (times.inFlight[action] ?? 0) + 1);
    times.maxInFlight[action] = Math.max(times.maxInFlight[action] ?? 0, now);
  });
  diagnostics.subscribe('http.server.response.finish', (message) => {
    const { request } = message as { request: IncomingMessage };
    const t0 = started.get(request);
    if (t0 === undefined) return;
    const action = actionOf(request);
    times.inFlight[action] = (times.inFlight[action] ?? 1) - 1;
    (times.byAction[action] ??= []).push(performance.now() - t0);
  });
  return times;
}

function recordsOf(requests: OutboundBotEmulator['requests'], serviceMs: Record<string, number[]>, connections: number, maxInFlight: Record<string, number>): RecordsReply {
  const byAction: Record<string, number> = {};
  const byOutcome: Record<string, number> = {};
  for (const r of requests) {
    byAction[r.action] = (byAction[r.action] ?? 0) + 1;
    const key = `${r.action} ${r.status} ${r.code || '-'}`;
    byOutcome[key] = (byOutcome[key] ?? 0) + 1;
  }
  const service = Object.fromEntries(Object.entries(serviceMs).map(([action, v]) => [action, { ...summarize(v), sum: v.reduce((a, b) => a + b, 0) }]));
  return { byAction, byOutcome, serviceMs: service, connections, maxInFlight: { ...maxInFlight } };
}

interface Served {
  emulator: OutboundBotEmulator;
  times: ServiceTimes;
}

/** What each request does; the reply's fields are what the handler returns. */
const HANDLERS: { [Op in EmulatorRequest['op']]: (served: Served, message: Extract<EmulatorRequest, { op: Op }>) => unknown } = {
  credential: ({ emulator }, message) => {
    emulator.addCredential(message.credential);
    return {};
  },
  seed: ({ emulator }, message) => {
    const scripts = seedScripts(message.seed, Date.now());
    emulator.addInstance(message.seed.instanceId, scripts);
    return { scripts: scripts.length };
  },
  latency: ({ emulator }, message) => {
    emulator.setLatency(message.ms);
    return {};
  },
  disable: ({ emulator }, message) => {
    emulator.setDisabledActions(message.actions);
    return {};
  },
  reset: ({ emulator, times }) => {
    emulator.reset();
    times.byAction = {};
    times.maxInFlight = {};
    return {};
  },
  records: ({ emulator, times }) => recordsOf(emulator.requests, times.byAction, emulator.connections, times.maxInFlight),
  close: async ({ emulator }) => {
    await emulator.close();
    return {};
  },
};

async function handle(served: Served, message: EmulatorRequest): Promise<unknown> {
  const handler = HANDLERS[message.op] as ((served: Served, message: EmulatorRequest) => unknown) | undefined;
  return handler?.(served, message);
}

async function main() {
  const emulator = await startEmulator();
  const times = trackServiceTimes();
  process.on('message', (message: EmulatorRequest & { id: number }) => {
    handle({ emulator, times }, message).then(
      (reply) => {
        process.send!({ id: message.id, ok: true, ...(reply as object) });
        if (message.op === 'close') process.disconnect();
      },
      (error: Error) => process.send!({ id: message.id, ok: false, error: error.message }),
    );
  });
  // The parent's end of the channel going away (bench killed) ends this process too.
  process.on('disconnect', () => process.exit(0));
  process.send!({ id: 0, ok: true, endpoint: emulator.endpoint });
}
void main();
