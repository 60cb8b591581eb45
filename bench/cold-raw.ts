// A fresh process that makes one hand-signed request: the cold-start floor. Same arguments and
// same report as bench/cold-handler.ts.
import { fail, reportAndExit } from './child-report';
import type { ChildTarget } from './fc-context';
import { rawWithdraw } from './raw-request';

const args = JSON.parse(process.argv[2]!) as ChildTarget & { scriptId: string };
rawWithdraw(args.role, args.instanceId, args.scriptId).then(() => reportAndExit(), fail);
