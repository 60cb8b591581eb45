import middy from '@middy/core';
import { createCleanupService } from '../../lib/cleanup/service';
import { systemClock } from '../../lib/core/clock';
import type { FcContext } from '../../lib/fc/context';

// Module scope lives as long as the FC instance: the config is parsed once.
const service = createCleanupService({ env: process.env, clock: systemClock });

// FC has no getRemainingTimeInMillis, so middy's early-timeout is off; the deadline is ours (lib/fc/context.ts).
export const handler = middy<unknown, unknown, Error, FcContext>({ timeoutEarlyInMillis: 0 }).handler((event, context) =>
  service.handle(event, context),
);
