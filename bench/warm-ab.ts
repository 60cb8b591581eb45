/**
 * `node build/bench-ab.js <bundle A> [<bundle B>]` (after `node scripts/build.mjs --tools`): warm
 * CPU per withdrawal of two builds of the withdraw bundle (a copy of dist/withdraw from before a
 * change, and dist/withdraw) beside the official client alone, each in a child of its own against
 * the emulator, in rotated rounds as the bench's warm row runs them: a change's effect, measured
 * side by side in one run on a noisy machine.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fail } from './child-report';
import { readDeployment } from './deployment';
import { IpcChild } from './processes';
import { summarize } from './stats';
import type { RoundReply, WarmArgs } from './warm-child';

const root = path.resolve(__dirname, '..');
const BUILD = path.join(root, 'build');
const WARMUP = Number(process.env.AB_WARMUP ?? 3000);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 15);
const CALLS = Number(process.env.AB_CALLS ?? 250);

async function main(): Promise<void> {
  const bundles = process.argv.slice(2).map((b) => path.resolve(b, b.endsWith('.js') ? '' : 'index.js'));
  if (bundles.length === 0) throw new Error('usage: bench-ab.js <bundle dir A> [<bundle dir B>]');
  if (bundles.length === 1) bundles.push(path.join(root, 'dist', 'withdraw', 'index.js'));
  const deployed = readDeployment(root);
  const emulator = new IpcChild('emulator', path.join(BUILD, 'bench-emulator.js'), [], { PATH: process.env.PATH });
  const children: { name: string; child: IpcChild; perCallUs: number[]; userUs: number[] }[] = [];
  try {
    const { endpoint } = (await emulator.ready) as { endpoint: string };
    const role = { endpoint, accessKeyId: `STS.Ab${randomBytes(6).toString('hex')}`, accessKeySecret: randomBytes(24).toString('base64'), securityToken: `CAIS${randomBytes(48).toString('base64')}` };
    await emulator.ask({ op: 'credential', credential: role });
    const names = [...bundles.map((_, i) => `handler ${'AB'[i]}`), 'client'];
    const prefix = (i: number) => `ab-${i}-`;
    await emulator.ask({ op: 'seed', seed: { instanceId: 'bench-hot', groups: names.map((_, i) => ({ prefix: prefix(i), count: WARMUP + ROUNDS * CALLS, status: 'EXAMINE_IN_PROGRESS', ageMinutes: 0 })) } });
    const withdrawEnv = deployed.withdraw.env;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...withdrawEnv, OUTBOUNDBOT_ENDPOINT: endpoint, OUTBOUNDBOT_PROTOCOL: 'http' };
    delete env.IDEMPOTENCY_REDIS_URL;
    names.forEach((name, i) => {
      const args: WarmArgs = {
        variant: i < bundles.length ? 'handler' : 'client',
        prefix: prefix(i),
        bundle: bundles[i] ?? '',
        role,
        instanceId: 'bench-hot',
        fn: deployed.withdraw.fn,
        readTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_READ_TIMEOUT_MS ?? 10_000),
        connectTimeoutMs: Number(withdrawEnv.OUTBOUNDBOT_CONNECT_TIMEOUT_MS ?? 3_000),
      };
      children.push({ name, child: new IpcChild(name, path.join(BUILD, 'bench-warm.js'), [JSON.stringify(args)], env), perCallUs: [], userUs: [] });
    });
    for (const c of children) await c.child.ready;
    for (const c of children) await c.child.ask({ op: 'round', from: 0, count: WARMUP }, 300_000);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < children.length; k++) {
        const c = children[(round + k) % children.length]!;
        const reply = await c.child.ask<RoundReply>({ op: 'round', from: WARMUP + round * CALLS, count: CALLS }, 300_000);
        c.perCallUs.push(reply.cpuUs / reply.calls);
        c.userUs.push(reply.userUs / reply.calls);
      }
    }
    const client = children.at(-1)!;
    for (const c of children) {
      const s = summarize(c.perCallUs);
      const pairwise = summarize(c.perCallUs.map((v, i) => v / client.perCallUs[i]!));
      process.stdout.write(`${c.name.padEnd(10)} ${s.median.toFixed(0)} µs [${s.p25.toFixed(0)}–${s.p75.toFixed(0)}]  / client ${(s.median / summarize(client.perCallUs).median).toFixed(3)}×, per round ${pairwise.median.toFixed(3)}× [${pairwise.p25.toFixed(3)}–${pairwise.p75.toFixed(3)}]\n`);
    }
    if (bundles.length === 2) {
      const [a, b] = children;
      const diff = summarize(b!.perCallUs.map((v, i) => v - a!.perCallUs[i]!));
      const user = summarize(b!.userUs.map((v, i) => v - a!.userUs[i]!));
      process.stdout.write(`B − A per round: ${diff.median.toFixed(1)} µs [${diff.p25.toFixed(1)}–${diff.p75.toFixed(1)}]; user CPU only ${user.median.toFixed(1)} µs [${user.p25.toFixed(1)}–${user.p75.toFixed(1)}]\n`);
    }
  } finally {
    for (const c of children) c.child.kill();
    emulator.kill();
  }
}

main().then(() => process.exit(0), fail);
