// Child processes of the bench: every one is tracked so a failed or timed-out bench kills what
// it started (by pid, its own children only), and every wait is bounded.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { RESULT_MARK } from './child-report';

const live = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export interface ChildRun<R> {
  /** From spawn() to the process's exit, as the parent sees it. */
  wallMs: number;
  result: R;
}

/**
 * Runs `node <script> <json>` to completion (stdout to /dev/null: log lines are written, as FC
 * would capture them, but not kept) and returns its result line (bench/child-report.ts).
 */
export function runChild<R>(
  script: string,
  arg: unknown,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  nodeFlags: string[] = [],
  wrap: (command: string, args: string[]) => [string, string[]] = (command, args) => [command, args],
): Promise<ChildRun<R>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const [command, args] = wrap(process.execPath, [...nodeFlags, script, JSON.stringify(arg)]);
    const child = track(spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' }));
    let wallMs = 0;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', () => (wallMs = performance.now() - started));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const line = stderr.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code !== 0 || !line) {
        const why = signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : `exited ${code ?? signal}`;
        reject(new Error(`${script.split('/').pop()} ${why}: ${stderr.trim().slice(-1500)}`));
        return;
      }
      resolve({ wallMs, result: JSON.parse(line.slice(RESULT_MARK.length)) as R });
    });
  });
}

/** A long-lived child answering `{id, …}` messages with `{id, ok, …}`; id 0 is its ready message. */
export class IpcChild {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #next = 1;
  #stderr = '';
  readonly ready: Promise<Record<string, unknown>>;

  constructor(
    readonly name: string,
    script: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    readyTimeoutMs = 20_000,
  ) {
    this.#child = track(fork(script, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
    this.#child.stderr!.on('data', (c: Buffer) => (this.#stderr = (this.#stderr + c.toString()).slice(-4000)));
    this.ready = this.#wait(0, readyTimeoutMs);
    this.#child.on('message', (m: Record<string, unknown> & { id: number }) => {
      const pending = this.#pending.get(m.id);
      if (!pending) return;
      this.#pending.delete(m.id);
      clearTimeout(pending.timer);
      if (m.ok) pending.resolve(m);
      else pending.reject(new Error(`${this.name}: ${String(m.error)}`));
    });
    this.#child.once('exit', (code, signal) => {
      for (const [, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`${this.name} exited (${code ?? signal}): ${this.#stderr.trim().slice(-1500)}`));
      }
      this.#pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #wait(id: number, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  ask<R = Record<string, unknown>>(message: Record<string, unknown>, timeoutMs = 30_000): Promise<R> {
    const id = this.#next++;
    const answer = this.#wait(id, timeoutMs);
    this.#child.send({ ...message, id });
    return answer as Promise<R>;
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  exited(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.#child.once('exit', () => resolve()));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/**
 * user + system CPU of a live child as the kernel's /proc/<pid>/stat has it, µs, in ticks of
 * 1/CLK_TCK s: too coarse for a cold start, fine as an independent check of a warm round.
 */
export function procCpuUs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}
