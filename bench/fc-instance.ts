// The deployed memory size as a hard wall for the memory rows: the child runs in a memory cgroup
// of the function's memorySize, so Node sizes its heap from the constrained memory exactly as it
// does on a 128 MB FC instance (a 1 MB young generation instead of this machine's 16 MB
// semi-spaces), and going over the limit gets the process killed, as FC would. It needs root and
// a writable cgroup file system (v1 or v2); without them the rows run unconstrained and say so.
import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface InstanceCgroup {
  /** `cgroup v1 memory` or `cgroup v2`. */
  kind: string;
  limitMb: number;
  /** The command that runs `command args` inside the cgroup. */
  wrap(command: string, args: string[]): [string, string[]];
  remove(): void;
}

const LAYOUTS = [
  { kind: 'cgroup v2', root: '/sys/fs/cgroup', limitFile: 'memory.max' },
  { kind: 'cgroup v1 memory', root: '/sys/fs/cgroup/memory', limitFile: 'memory.limit_in_bytes' },
];

export function createInstanceCgroup(limitMb: number): InstanceCgroup | undefined {
  for (const layout of LAYOUTS) {
    const dir = path.join(layout.root, `wsr-bench-${process.pid}`);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    // A real cgroup comes with its control files; a plain directory (a tmpfs) is no wall at all.
    if (!existsSync(path.join(dir, 'cgroup.procs')) || !existsSync(path.join(dir, layout.limitFile))) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    try {
      writeFileSync(path.join(dir, layout.limitFile), String(limitMb * 1024 * 1024));
    } catch {
      rmdirSync(dir);
      continue;
    }
    const procs = path.join(dir, 'cgroup.procs');
    return {
      kind: layout.kind,
      limitMb,
      // The shell joins the cgroup, then becomes the command: the measured process is the node itself.
      wrap: (command, args) => ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args]],
      remove: () => {
        try {
          rmdirSync(dir);
        } catch {
          // A process still inside keeps the cgroup; the next run makes its own.
        }
      },
    };
  }
  return undefined;
}
