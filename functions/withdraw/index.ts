import middy from '@middy/core';
import { systemClock } from '../../lib/core/clock';
import type { FcContext } from '../../lib/fc/context';
import { createWithdrawService } from '../../lib/withdraw/service';

// Module scope lives as long as the FC instance: config, client and memory are built once.
const service = createWithdrawService({ env: process.env, clock: systemClock });

// FC has no getRemainingTimeInMillis, so middy's early-timeout is off; the deadline is ours (lib/fc/context.ts).
export const handler = middy<unknown, unknown, Error, FcContext>({ timeoutEarlyInMillis: 0 }).handler((event, context) =>
  service.handle(event, context),
);
