// A fresh process that loads the deployed bundle and serves one withdrawal, as an FC cold start
// does; it reports its own resource usage when the answer is in hand (bench/child-report.ts).
// The function's environment (OUTBOUNDBOT_ENDPOINT pointing at the emulator…) comes from the parent.
import { fail, reportAndExit } from './child-report';
import { fcContext, invokeEvent, type ChildTarget, type FunctionSpec } from './fc-context';

const args = JSON.parse(process.argv[2]!) as ChildTarget & { bundle: string; scriptId: string; fn: FunctionSpec };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require(args.bundle) as { handler: (event: Buffer, context: unknown) => Promise<{ Success?: boolean; Code?: string }> };
handler(invokeEvent({ InstanceId: args.instanceId, ScriptId: args.scriptId }), fcContext('bench-cold', args.role, args.fn)).then(
  (result) => (result.Success ? reportAndExit() : fail(`withdrawal failed: ${result.Code}`)),
  fail,
);
