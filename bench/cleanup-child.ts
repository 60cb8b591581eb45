// One cleanup run (timer trigger, inline mode) in a fresh process that loads the built cleanup
// bundle: its peak RSS is the function's, and its wall time is the handler call's.
import { performance } from 'node:perf_hooks';
import { fail, reportAndExit } from './child-report';
import { fcContext, timerEvent, type ChildTarget, type FunctionSpec } from './fc-context';

interface CleanupArgs extends ChildTarget {
  bundle: string;
  fn: FunctionSpec;
  olderThanMinutes: number;
  /** How many withdrawals the run must make. */
  expect: number;
}

interface CleanupSummary {
  Success?: boolean;
  Listed?: number;
  Eligible?: number;
  Selected?: number;
  Withdrawn?: number;
  Failed?: number;
  Truncated?: boolean;
  Code?: string;
  Message?: string;
  durationMs?: number;
}

const args = JSON.parse(process.argv[2]!) as CleanupArgs;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require(args.bundle) as { handler: (event: Buffer, context: unknown) => Promise<CleanupSummary> };

async function main() {
  const event = timerEvent({ InstanceId: args.instanceId, OlderThanMinutes: args.olderThanMinutes });
  const context = fcContext('bench-cleanup', args.role, args.fn);
  const t0 = performance.now();
  const result = await handler(event, context);
  const elapsedMs = performance.now() - t0;
  const { Success, Listed, Eligible, Selected, Withdrawn, Failed, Truncated, Code, Message, durationMs } = result;
  const summary = { Success, Listed, Eligible, Selected, Withdrawn, Failed, Truncated, durationMs };
  if (!Success || Withdrawn !== args.expect || Failed !== 0 || Truncated) {
    throw new Error(`cleanup did not withdraw the ${args.expect} stale reviews: ${JSON.stringify({ ...summary, Code, Message })}`);
  }
  reportAndExit({ elapsedMs, summary, memory: process.memoryUsage() });
}
main().catch(fail);
