// Every test worker: the functions' JSON log lines (lib/core/logger.ts writes them to stdout, as
// FC collects them) stay out of the test output. Tests that read them capture them themselves
// (child processes' output, a logger's `write`); a passing run shows the runner's lines only.
const LOG_LINE = /^\{"time":"[^"]+","level":"(debug|info|warn|error)"/;
const write = process.stdout.write.bind(process.stdout);
let pending = '';

process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop()!;
  const shown = lines.filter((line) => !LOG_LINE.test(line));
  const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  if (shown.length === 0) {
    done?.();
    return true;
  }
  return write(`${shown.join('\n')}\n`, done);
}) as typeof process.stdout.write;
