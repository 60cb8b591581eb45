/**
 * `npm run bench`: the performance budget of DESIGN.md §11 (the contract's §7), every row measured
 * side by side in one run against the OutboundBot emulator on loopback, which runs in a process
 * of its own: only the measured process's CPU counts. Each measured thing runs in a child process
 * of its own too; this process only orchestrates (bench/runner.ts). Prints a table, writes
 * bench/results.json and the docs drawn from it (bench/report.ts), exits 1 when a budget is
 * missed (2 when the bench itself failed).
 *
 * `node build/bench.js --report-only` measures nothing: it redraws docs/PERFORMANCE.md's table and
 * docs/performance.svg from bench/results.json as it stands.
 */
import { MAX_SECONDS, ROOT } from './config';
import { killAll } from './processes';
import { drawDocs, readResults } from './report';
import { runBench } from './runner';

if (process.argv.includes('--report-only')) {
  try {
    drawDocs(readResults(ROOT), ROOT);
    process.stdout.write('docs/PERFORMANCE.md and docs/performance.svg redrawn from bench/results.json\n');
  } catch (error) {
    process.stderr.write(`bench --report-only failed: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
} else {
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench failed: still running after ${MAX_SECONDS} s\n`);
    killAll();
    process.exit(2);
  }, MAX_SECONDS * 1000);
  watchdog.unref();

  runBench().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`\nbench failed: ${error.stack ?? error.message}\n`);
      killAll();
      process.exit(2);
    },
  );
}
