import { systemClock } from '../../lib/core/clock';
import { createWithdrawHandler } from '../../lib/withdraw/service';

// Module scope lives as long as the FC instance: config, client and memory are built once.
// The handler is middy with two middlewares: one opens each invocation's scope, one maps
// its errors to FC's answer (lib/fc/middleware.ts); lib/withdraw/service.ts composes them.
export const handler = createWithdrawHandler({ env: process.env, clock: systemClock });
