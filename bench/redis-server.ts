// A throwaway redis-server on a free loopback port for the store-cost row (as
// test/support/redis-server.ts starts one for the tests), and a minimal RESP client so the
// bench can ask Redis how many commands it served: the proof that the store was really used.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export const REDIS_BINARY = process.env.REDIS_SERVER ?? 'redis-server';

export const redisInstalled = (): boolean => spawnSync(REDIS_BINARY, ['--version']).status === 0;

export interface BenchRedis {
  port: number;
  url: string;
  /** `total_commands_processed` from INFO stats; the INFO itself counts as one. */
  commandsProcessed(): Promise<number>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawn(REDIS_BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async commandsProcessed() {
      const info = await command(port, ['INFO', 'stats']);
      const match = /total_commands_processed:(\d+)/.exec(info);
      if (!match) throw new Error('redis INFO stats has no total_commands_processed');
      return Number(match[1]);
    },
    stop: () => halt(child),
  };
}

/** One command, one bulk-string (or status) reply. */
function command(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis command timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const text = buffer.toString('latin1');
      const eol = text.indexOf('\r\n');
      if (eol < 0) return;
      if (text[0] === '-') return reject(new Error(text.slice(1, eol)));
      if (text[0] !== '$') {
        socket.end();
        return resolve(text.slice(1, eol));
      }
      const length = Number(text.slice(1, eol));
      if (buffer.length < eol + 2 + length) return;
      socket.end();
      resolve(buffer.subarray(eol + 2, eol + 2 + length).toString());
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

async function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
