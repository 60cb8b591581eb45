// One cleanup run (timer trigger, inline mode) in a fresh process that loads the built cleanup
// bundle: its peak RSS is the function's, and its wall time is the handler call's.
import { performance } from 'node:perf_hooks';
import { fail, reportAndExit } from './child-report';
import { fcContext, timerEvent, type ChildTarget, type FunctionSpec } from './fc-context';

interface CleanupArgs extends ChildTarget {
  bundle: string;
  fn: FunctionSpec;
  olderThanMinutes: number;
  /** How many withdrawals the run must make; `scale`: a run cut short by time, that withdrew some and failed none. */
  expect: number | 'scale';
  dryRun?: boolean;
}

interface CleanupSummary {
  Success?: boolean;
  Pages?: number;
  TotalCount?: number;
  Complete?: boolean;
  CandidatesNotListed?: number;
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
  const event = timerEvent({ InstanceId: args.instanceId, OlderThanMinutes: args.olderThanMinutes, ...(args.dryRun ? { DryRun: true } : {}) });
  const context = fcContext('bench-cleanup', args.role, args.fn);
  const t0 = performance.now();
  const result = await handler(event, context);
  const elapsedMs = performance.now() - t0;
  const { Success, Pages, TotalCount, Complete, Listed, Eligible, Selected, Withdrawn, Failed, Truncated, CandidatesNotListed, Code, Message, durationMs } = result;
  const summary = { Success, Pages, TotalCount, Complete, Listed, Eligible, Selected, Withdrawn, Failed, Truncated, CandidatesNotListed, durationMs, answerBytes: JSON.stringify(result).length };
  if (args.expect === 'scale' ? !scaleRunHeld(summary) : !Success || Withdrawn !== args.expect || Failed !== 0 || Truncated) {
    throw new Error(`cleanup did not do what it must: ${JSON.stringify({ ...summary, Code, Message })}`);
  }
  reportAndExit({ elapsedMs, summary, memory: process.memoryUsage() });
}
/** A listing that cannot finish in time: the run read part of it, acted on what it read, and says it stopped short. */
function scaleRunHeld(summary: CleanupSummary): boolean {
  const acted = args.dryRun ? (summary.Selected ?? 0) > 0 : (summary.Withdrawn ?? 0) > 0 && summary.Failed === 0;
  return acted && summary.Truncated === true && summary.Complete === false && (summary.Listed ?? 0) < (summary.TotalCount ?? 0);
}

main().catch(fail);
