// Five 100-item batches arriving together (FC instance concurrency: the worst case for memory),
// in a fresh process that loads the built withdraw bundle: its peak RSS is the function's. They
// share the instance's BATCH_CONCURRENCY upstream limit (set by the parent from s.yaml).
import { performance } from 'node:perf_hooks';
import { fail, reportAndExit } from './child-report';
import { fcContext, invokeEvent, type ChildTarget, type FunctionSpec } from './fc-context';

interface BatchArgs extends ChildTarget {
  bundle: string;
  fn: FunctionSpec;
  prefix: string;
  from: number;
  batches: number;
  size: number;
}

const args = JSON.parse(process.argv[2]!) as BatchArgs;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require(args.bundle) as { handler: (event: Buffer, context: unknown) => Promise<{ Success: boolean; Results?: unknown[] }> };

async function main() {
  const invocations = Array.from({ length: args.batches }, (_, batch) => {
    const Items = Array.from({ length: args.size }, (_, i) => ({ InstanceId: args.instanceId, ScriptId: `${args.prefix}${args.from + batch * args.size + i}` }));
    return { event: invokeEvent({ Items }), context: fcContext(`bench-batch-${args.from}-${batch}`, args.role, args.fn) };
  });
  const t0 = performance.now();
  const results = await Promise.all(invocations.map(({ event, context }) => handler(event, context)));
  const elapsedMs = performance.now() - t0;
  const failed = results.filter((r) => !r.Success).length;
  if (failed) throw new Error(`${failed} of ${args.batches} batches failed: ${JSON.stringify(results.find((r) => !r.Success)).slice(0, 400)}`);
  reportAndExit({ elapsedMs, items: args.batches * args.size, memory: process.memoryUsage() });
}
main().catch(fail);
