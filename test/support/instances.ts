// FC instances for the tests: a built bundle (the withdraw function unless told), each in a process of its own, so a
// guarantee that only holds inside one process's memory fails here as it would in production.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface InstanceAnswer {
  value?: unknown;
  error?: { name: string; message: string; code?: string; result?: unknown };
}

export interface Instance {
  invoke(event: unknown, context: Record<string, unknown>): Promise<InstanceAnswer>;
  /** What the instance logged, one JSON object per line. */
  logs(): Array<Record<string, unknown>>;
  output(): string;
  kill(): void;
}

export async function startInstance(env: Record<string, string>, bundle: 'withdraw' | 'cleanup' = 'withdraw'): Promise<Instance> {
  const child: ChildProcess = fork(path.join(__dirname, 'instance-child.cjs'), [bundle], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const pending = new Map<number, (answer: InstanceAnswer) => void>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}: ${output}`)));
    child.on('message', (message: { ready?: boolean; id?: number } & InstanceAnswer) => {
      if (message.ready) return resolve();
      pending.get(message.id!)?.(message);
      pending.delete(message.id!);
    });
  });
  return {
    invoke(event, context) {
      const id = next++;
      const bytes = Buffer.isBuffer(event) ? event : Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, event: bytes.toString('base64'), context });
      });
    },
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    output: () => output,
    kill: () => child.kill('SIGKILL'),
  };
}
