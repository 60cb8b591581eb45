import { systemClock } from '../../lib/core/clock';
import type { FcContext } from '../../lib/fc/context';
import { createCleanupService } from '../../lib/cleanup/service';

// Module scope lives as long as the FC instance: the config is parsed once.
const service = createCleanupService({ env: process.env, clock: systemClock });

// No middy here: the cleanup maps its own errors because its contract needs it to. A refusal
// is called back (with the config in hand) and returned, never thrown, and is logged with the
// run's trigger and instance; only a bug throws, logged first. There is no HTTP answer to build,
// and middy's early timeout would be off anyway (FC has no getRemainingTimeInMillis).
export const handler = (event: unknown, context: FcContext): Promise<unknown> => service.handle(event, context);
