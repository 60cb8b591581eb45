// Running what the project prints or documents exactly as a developer would: pasted into bash
// in the repository root, with nothing in the environment but PATH and what the line needs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ROOT } from '../support/local-stack';

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one line (or a snippet) in bash; `timeoutMs` bounds it so a hanging command fails the test instead of stalling it. */
export async function shell(line: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<ShellResult> {
  const child = spawn('bash', ['-c', line], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Collects a stream's text until `marker` appears (or fails when the stream ends first). */
export function readUntil(stream: NodeJS.ReadableStream, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes(marker)) {
        stream.off('data', onData);
        stream.off('end', onEnd);
        stream.resume();
        resolve(text);
      }
    };
    const onEnd = () => reject(new Error(`the stream ended before "${marker}":\n${text}`));
    stream.on('data', onData);
    stream.on('end', onEnd);
  });
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed on stderr up to "Ctrl-C to stop.". */
  banner: string;
  /** The banner's lines that are commands (curl …, node …), trimmed. */
  commands: string[];
  /** SIGINT, as Ctrl-C: resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `node build/server.js` (what `npm start` runs after its build) on free ports, with `env` added to PATH. */
export async function startServerProcess(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'build/server.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    const banner = await readUntil(child.stderr, 'Ctrl-C to stop.');
    child.stdout.resume(); // the functions' log lines; read so the pipe never fills
    const commands = banner.split('\n').map((l) => l.trim()).filter((l) => /^(curl|node) /.test(l));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const [code] = await exited;
      return code;
    };
    return { child, banner, commands, stop };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
