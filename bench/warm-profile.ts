/**
 * `node build/bench-profile.js` (after `node scripts/build.mjs --tools`): where a warm withdrawal's
 * CPU goes, by source module. The handler (build/profile-withdraw: the withdraw bundle as in dist/,
 * not minified) and the official client alone each run in a child of their own against the
 * emulator (a process of its own), are warmed up unprofiled, then profiled with V8's sampling
 * profiler over PROFILE_CALLS calls. Each sample is charged to the nearest frame on its stack that
 * belongs to a module of the bundle (so JSON.stringify or a hash called by the logger is the
 * logger's), else to what V8 names it ((garbage collector), (program)). Prints µs per call by
 * module and by group for both, and the difference; writes the profiles to build/profiles/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fail } from './child-report';
import { readDeployment } from './deployment';
import { IpcChild } from './processes';
import type { RoundReply, WarmArgs, WarmVariant } from './warm-child';
import { randomBytes } from 'node:crypto';

const root = path.resolve(__dirname, '..');
const BUILD = path.join(root, 'build');
const OUT = path.join(BUILD, 'profiles');
const WARMUP = Number(process.env.PROFILE_WARMUP ?? 4000);
const CALLS = Number(process.env.PROFILE_CALLS ?? 3000);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Each module's first line in a non-minified esbuild bundle (its `// path` comment), in order. */
function moduleStarts(file: string): { line: number; module: string }[] {
  const starts: { line: number; module: string }[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const match = /^\/\/ ((?:node_modules|lib|bench|emulator|functions|local|scripts)\/\S+)$/.exec(text);
      if (match) starts.push({ line, module: match[1]! });
    });
  return starts;
}

function moduleAt(starts: { line: number; module: string }[], line: number): string {
  let found = '(bundle prelude)';
  for (const start of starts) {
    if (start.line > line) break;
    found = start.module;
  }
  return found;
}

/** µs per call by module: each sample charged to its nearest frame inside `bundle`. */
function byModule(profile: Profile, bundles: string[], calls: number): Map<string, number> {
  const starts = new Map(bundles.flatMap((bundle) => [[`file://${bundle}`, moduleStarts(bundle)], [bundle, moduleStarts(bundle)]]));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The guard's agent only hands the request to its guard, then runs Node's own addRequest: what
  // that does (the socket pool) is the client's work, as it is in the client-alone variant.
  const ownerOf = (leaf: number): string => {
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = nodes.get(id)!.callFrame;
      const bundleStarts = starts.get(frame.url);
      if (bundleStarts === undefined) continue;
      const module = moduleAt(bundleStarts, frame.lineNumber);
      if (id !== leaf && module === 'lib/outboundbot/transport.ts' && frame.functionName.endsWith('addRequest')) return 'node_modules/httpx (the agent, reached through the guard)';
      return module;
    }
    // No frame of the bundle on the stack: V8's own names ((garbage collector), (program), (idle)), or the top frame's.
    let top = leaf;
    while (parent.has(top) && nodes.get(parent.get(top)!)!.callFrame.functionName !== '(root)') top = parent.get(top)!;
    const frame = nodes.get(top)!.callFrame;
    return frame.functionName || frame.url || '(anonymous)';
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = ownerOf(id);
    if (name === '(idle)') return;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  for (const [k, v] of totals) totals.set(k, v / calls);
  return totals;
}

/** The guarantee (or dependency) a module belongs to. */
const GROUPS: [RegExp, string][] = [
  [/^node_modules\/(@alicloud|@darabonba|httpx|kitx)/, 'official client (SDK, httpx)'],
  [/^processTicksAndRejections$|^onStreamRead$|^listOnTimeout$/, 'Node: promise jobs, socket I/O, timers (both)'],
  [/^bench\/official-client/, 'official client (SDK, httpx)'],
  [/^lib\/outboundbot\/(transport|client|upstream-text)/, 'transport guard and scrub'],
  [/^lib\/outboundbot\/call|^lib\/core\/retry-policy/, 'retry engine and call classification'],
  [/^lib\/core\/(logger|redact)/, 'logger and redaction'],
  [/^lib\/idempotency\/fingerprint/, 'fingerprint hashing'],
  [/^lib\/idempotency\//, 'idempotency record (once, store)'],
  [/^node_modules\/zod/, 'zod'],
  [/^lib\/withdraw\/(items|triggers)|^lib\/fc\/events|^lib\/core\/schema/, 'event decoding and validation'],
  [/^node_modules\/@middy/, 'middy'],
  [/^lib\/fc\/(middleware|timeline|error-mapping)|^lib\/withdraw\/(scopes|service)/, 'scope, timeline, middlewares'],
  [/^lib\/core\/concurrency/, 'upstream limiter'],
  [/^lib\/withdraw\/(withdraw-all|withdraw-item|delivery-once|event-path|exclusive)/, 'withdrawal and delivery machinery'],
  [/^lib\/runtime/, 'instance state (config, client cache)'],
  [/^bench\//, 'bench harness'],
  [/garbage collector/, 'GC'],
  [/\(program\)/, '(program: V8/native, unattributed)'],
];
const groupOf = (module: string) => GROUPS.find(([re]) => re.test(module))?.[1] ?? `other: ${module}`;

function grouped(modules: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [m, v] of modules) out.set(groupOf(m), (out.get(groupOf(m)) ?? 0) + v);
  return out;
}

async function profileVariant(variant: WarmVariant, bundle: string, env: NodeJS.ProcessEnv, target: Omit<WarmArgs, 'variant' | 'prefix' | 'bundle'>): Promise<{ modules: Map<string, number>; cpuUs: number; userUs: number; systemUs: number; profiledUs: number }> {
  const args: WarmArgs = { ...target, variant, prefix: `prof-${variant}-`, bundle };
  const child = new IpcChild(`profile ${variant}`, path.join(BUILD, 'bench-warm.js'), [JSON.stringify(args)], env);
  try {
    await child.ready;
    await child.ask({ op: 'round', from: 0, count: WARMUP }, 300_000);
    const plain = await child.ask<RoundReply>({ op: 'round', from: WARMUP, count: CALLS }, 300_000);
    await child.ask({ op: 'profile-start' });
    const profiled = await child.ask<RoundReply>({ op: 'round', from: WARMUP + CALLS, count: CALLS }, 300_000);
    const file = path.join(OUT, `${variant}.cpuprofile`);
    await child.ask({ op: 'profile-stop', file });
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    // The harness (build/bench-warm.js) in both, so that its own work is named alike in both.
    const sources = variant === 'handler' ? [bundle, path.join(BUILD, 'bench-warm.js')] : [path.join(BUILD, 'bench-warm.js')];
    return { modules: byModule(profile, sources, CALLS), cpuUs: plain.cpuUs / plain.calls, userUs: plain.userUs / plain.calls, systemUs: plain.systemUs / plain.calls, profiledUs: profiled.cpuUs / profiled.calls };
  } finally {
    child.kill();
  }
}

const fmt = (v: number) => v.toFixed(1).padStart(7);

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const deployed = readDeployment(root);
  const emulator = new IpcChild('emulator', path.join(BUILD, 'bench-emulator.js'), [], { PATH: process.env.PATH });
  try {
    const { endpoint } = (await emulator.ready) as { endpoint: string };
    const role = { endpoint, accessKeyId: `STS.Prof${randomBytes(6).toString('hex')}`, accessKeySecret: randomBytes(24).toString('base64'), securityToken: `CAIS${randomBytes(48).toString('base64')}` };
    await emulator.ask({ op: 'credential', credential: role });
    const groups = (['handler', 'client'] as const).map((v) => ({ prefix: `prof-${v}-`, count: WARMUP + 2 * CALLS, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 0 }));
    await emulator.ask({ op: 'seed', seed: { instanceId: 'bench-hot', groups } });
    const withdrawEnv = deployed.withdraw.env;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...withdrawEnv, OUTBOUNDBOT_ENDPOINT: endpoint, OUTBOUNDBOT_PROTOCOL: 'http' };
    delete env.IDEMPOTENCY_REDIS_URL;
    const target = {
      role,
      instanceId: 'bench-hot',
      fn: deployed.withdraw.fn,
      readTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_READ_TIMEOUT_MS ?? 10_000),
      connectTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_CONNECT_TIMEOUT_MS ?? 3_000),
    };
    const handler = await profileVariant('handler', path.join(BUILD, 'profile-withdraw', 'index.js'), env, target);
    const client = await profileVariant('client', '', env, target);
    process.stdout.write(`CPU per call unprofiled: handler ${handler.cpuUs.toFixed(0)} µs, client ${client.cpuUs.toFixed(0)} µs (${(handler.cpuUs / client.cpuUs).toFixed(3)}×); profiled ${handler.profiledUs.toFixed(0)} / ${client.profiledUs.toFixed(0)} µs; user ${handler.userUs.toFixed(0)} / ${client.userUs.toFixed(0)} µs, system ${handler.systemUs.toFixed(0)} / ${client.systemUs.toFixed(0)} µs\n\n`);
    const hg = grouped(handler.modules);
    const cg = grouped(client.modules);
    const names = [...new Set([...hg.keys(), ...cg.keys()])].sort((a, b) => (hg.get(b) ?? 0) - (cg.get(b) ?? 0) - ((hg.get(a) ?? 0) - (cg.get(a) ?? 0)));
    process.stdout.write(`sampled µs per call    handler  client  handler−client  group\n`);
    for (const name of names) process.stdout.write(`                     ${fmt(hg.get(name) ?? 0)} ${fmt(cg.get(name) ?? 0)} ${fmt((hg.get(name) ?? 0) - (cg.get(name) ?? 0))}         ${name}\n`);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`                     ${fmt(sum(hg))} ${fmt(sum(cg))} ${fmt(sum(hg) - sum(cg))}         total sampled, idle excluded\n\nhandler by module (µs per call, ≥ 1):\n`);
    for (const [m, v] of [...handler.modules].sort((a, b) => b[1] - a[1])) if (v >= 1) process.stdout.write(`${fmt(v)}  ${m}\n`);
  } finally {
    emulator.kill();
  }
}

main().then(() => process.exit(0), fail);
