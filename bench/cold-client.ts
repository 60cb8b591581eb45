// A fresh process that loads the official client alone, bundled as the withdraw function is
// (same stubs and lazy builtins, minified: scripts/build.mjs), and makes the function's call
// once: the share of the handler's cold start that is the client's own. Same report as the others.
import { fail, reportAndExit } from './child-report';
import type { ChildTarget } from './fc-context';
import { officialClientWithdrawal } from './official-client';

const args = JSON.parse(process.argv[2]!) as ChildTarget & { scriptId: string; readTimeoutMs: number; connectTimeoutMs: number };
officialClientWithdrawal(args.role, args)(args.instanceId, args.scriptId).then(() => reportAndExit(), fail);
