/**
 * `npm run bench`: the performance budget of DESIGN.md §7, measured side by side in one run
 * against the OutboundBot emulator on loopback and reported as ratios (these machines are
 * noisy; a ratio of two things measured alternately is not). Exits 1 when a budget is missed.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { deflateRawSync } from 'node:zlib';
import { createOutboundBotClient } from '../lib/outboundbot/client';
import { rawWithdraw, type RawTarget } from './raw-request';

const root = path.resolve(__dirname, '..');
const BUNDLE = path.join(root, 'dist', 'withdraw', 'index.js');
const INSTANCE = 'bench-instance';
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const WARM_OPS = Number(process.env.BENCH_WARM_OPS ?? 600);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function timeProcess(script: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${path.basename(script)} exited ${code}: ${stderr}`))));
  });
}

function runChild(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(stderr) : reject(new Error(`${path.basename(script)} exited ${code}: ${stderr}`))));
  });
}

/** What `zip -9` would make of the folder: deflated entries plus local and central headers. */
function zippedBytes(dir: string): number {
  let total = 22;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (!statSync(file).isFile()) continue;
    total += deflateRawSync(readFileSync(file), { level: 9 }).length + 30 + 46 + 2 * name.length;
  }
  return total;
}

/** Sends one message to the emulator process and waits for its acknowledgement. */
function ask(child: ChildProcess, message: object): Promise<{ endpoint: string }> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as { endpoint: string }));
    child.send(message);
  });
}

interface Row {
  name: string;
  measured: string;
  budget: string;
  ok: boolean;
}

async function main() {
  const emulator = fork(path.join(root, 'build', 'bench-emulator.js'), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { endpoint } = await new Promise<{ endpoint: string }>((resolve) => emulator.once('message', (m) => resolve(m as { endpoint: string })));
  const role: RawTarget = {
    endpoint,
    accessKeyId: `STS.Bench${randomBytes(6).toString('hex')}`,
    accessKeySecret: randomBytes(24).toString('base64'),
    securityToken: `CAIS${randomBytes(48).toString('base64')}`,
  };
  await ask(emulator, {
    setup: { credential: role, instanceId: INSTANCE, scriptCount: 2 * COLD_RUNS + 2 * WARM_OPS + 600 },
  });
  let next = 0;
  const fresh = () => `bench-${next++}`;
  const creds = [role.endpoint, role.accessKeyId, role.accessKeySecret, role.securityToken!];

  // Cold start: alternate the two kinds of fresh process so drift hits both alike.
  const coldHandler: number[] = [];
  const coldRaw: number[] = [];
  const build = path.join(root, 'build');
  for (let i = 0; i < COLD_RUNS; i++) {
    coldRaw.push(await timeProcess(path.join(build, 'bench-cold-raw.js'), [...creds, INSTANCE, fresh()]));
    coldHandler.push(await timeProcess(path.join(build, 'bench-cold-handler.js'), [BUNDLE, ...creds, INSTANCE, fresh()]));
  }

  // Warm: the handler in this process vs a raw signed keep-alive request, alternating in blocks.
  process.env.OUTBOUNDBOT_ENDPOINT = endpoint;
  process.env.OUTBOUNDBOT_PROTOCOL = 'http';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(BUNDLE) as { handler: (event: Buffer, context: unknown) => Promise<{ Success: boolean }> };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const context = () => ({ requestId: `bench-warm-${next}`, credentials: { accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken }, function: { name: 'withdraw', timeout: 30 } });
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // log lines are built, not printed
  const warmHandler: number[] = [];
  const warmRaw: number[] = [];
  // Not budgeted: the official client on its own, to show how much of the warm gap is the SDK's.
  const sdk = createOutboundBotClient(role as Required<RawTarget>, { endpoint, protocol: 'http', connectTimeoutMs: 3_000 });
  const warmSdk: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      await handler(Buffer.from(JSON.stringify({ InstanceId: INSTANCE, ScriptId: fresh() })), context());
      await rawWithdraw(role, INSTANCE, fresh(), agent);
    }
    for (let block = 0; block < WARM_OPS / 20; block++) {
      for (let i = 0; i < 10; i++) {
        const event = Buffer.from(JSON.stringify({ InstanceId: INSTANCE, ScriptId: fresh() }));
        const t0 = performance.now();
        const result = await handler(event, context());
        warmHandler.push(performance.now() - t0);
        if (!result.Success) throw new Error('warm withdrawal failed');
      }
      for (let i = 0; i < 10; i++) {
        const scriptId = fresh();
        const t0 = performance.now();
        await rawWithdraw(role, INSTANCE, scriptId, agent);
        warmRaw.push(performance.now() - t0);
      }
      for (let i = 0; i < 10; i++) {
        const query = { InstanceId: INSTANCE, ScriptId: fresh() };
        const t0 = performance.now();
        await sdk.call('WithdrawScriptReview', query, 10_000);
        warmSdk.push(performance.now() - t0);
      }
    }
  } finally {
    process.stdout.write = realWrite;
  }

  // Batch: 500 items, 20 ms upstream latency, concurrency 16, in a process of its own.
  await ask(emulator, { latencyMs: 20 });
  const batchStart = next;
  next += 500;
  const batch = JSON.parse((await runChild(path.join(build, 'bench-batch.js'), [BUNDLE, ...creds, INSTANCE, String(batchStart)])).trim().split('\n').at(-1)!) as { elapsedMs: number; maxRssKb: number };
  emulator.send({ close: true });
  agent.destroy();

  const idealMs = (500 / 16) * 20;
  const coldRatio = median(coldHandler) / median(coldRaw);
  const warmRatio = median(warmHandler) / median(warmRaw);
  const sdkRatio = median(warmSdk) / median(warmRaw);
  const throughputShare = idealMs / batch.elapsedMs;
  const sizes = Object.fromEntries(
    readdirSync(path.join(root, 'dist'))
      .filter((name) => statSync(path.join(root, 'dist', name)).isDirectory())
      .map((name) => [name, zippedBytes(path.join(root, 'dist', name))]),
  );
  const ms = (v: number) => `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ms`;
  const rows: Row[] = [
    { name: 'cold start (handler / bare node)', measured: `${coldRatio.toFixed(2)}× (${ms(median(coldHandler))} / ${ms(median(coldRaw))})`, budget: '≤ 1.5×', ok: coldRatio <= 1.5 },
    { name: 'warm latency, median (handler / raw)', measured: `${warmRatio.toFixed(2)}× (${ms(median(warmHandler))} / ${ms(median(warmRaw))})`, budget: '≤ 1.2×', ok: warmRatio <= 1.2 },
    { name: '  of which the SDK client alone / raw', measured: `${sdkRatio.toFixed(2)}× (${ms(median(warmSdk))} / ${ms(median(warmRaw))})`, budget: '(info)', ok: true },
    { name: 'batch throughput (of ideal)', measured: `${(throughputShare * 100).toFixed(1)}% (${ms(batch.elapsedMs)} vs ideal ${ms(idealMs)})`, budget: '≥ 80%', ok: throughputShare >= 0.8 },
    { name: 'batch peak RSS', measured: `${(batch.maxRssKb / 1024).toFixed(1)} MB`, budget: '< 128 MB', ok: batch.maxRssKb / 1024 < 128 },
    ...Object.entries(sizes).map(([name, bytes]) => ({ name: `dist/${name} zipped`, measured: `${(bytes / 1024).toFixed(1)} KB`, budget: '< 1 MB', ok: bytes < 1024 * 1024 })),
  ];
  const width = Math.max(...rows.map((r) => r.name.length));
  const mwidth = Math.max(...rows.map((r) => r.measured.length));
  for (const r of rows) process.stdout.write(`${r.ok ? 'ok  ' : 'MISS'}  ${r.name.padEnd(width)}  ${r.measured.padEnd(mwidth)}  ${r.budget}\n`);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    runs: { cold: COLD_RUNS, warm: warmHandler.length },
    coldStart: { handlerMedianMs: median(coldHandler), rawMedianMs: median(coldRaw), ratio: coldRatio },
    warm: { handlerMedianMs: median(warmHandler), rawMedianMs: median(warmRaw), ratio: warmRatio, sdkClientMedianMs: median(warmSdk), sdkClientRatio: sdkRatio },
    batch: { items: 500, upstreamLatencyMs: 20, concurrency: 16, elapsedMs: batch.elapsedMs, idealMs, share: throughputShare, peakRssMb: batch.maxRssKb / 1024 },
    zippedBytes: sizes,
    ok: rows.every((r) => r.ok),
  };
  writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results written to bench/results.json\n`);
  process.exit(results.ok ? 0 : 1);
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.message}\n`);
  process.exit(2);
});
