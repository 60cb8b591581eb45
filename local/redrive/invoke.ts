/**
 * One parked event invoked again: synchronously, through `@alicloud/fc2` on the FC 3.0 invoke
 * path as the CLI's other commands invoke, so the outcome is known before the message is touched.
 *
 * @module
 */
import { createFc3Client, invokeFunction } from '../../lib/fc/client';
import { INVOKE_TIMEOUT_MS, type Target } from '../cli-args';
import { describeInvokeError } from '../invoke-error';
import { outcomeOf, type Outcome } from './outcome';
import type { ParkedEvent } from './parked-event';

/** How long the client waits for the function: past its FC timeout, so FC's own answer comes first. */
export function invokeTimeoutMs(event: ParkedEvent): number {
  return INVOKE_TIMEOUT_MS[event.mode];
}

/**
 * The outcome of invoking the event's function with its payload; never throws. An invocation
 * that got no answer (refused, unreachable, timed out, cut) is `left`: the function may have
 * acted, and the next redrive's invocation is answered from its delivery record.
 */
export async function redriveEvent(event: ParkedEvent, target: Target): Promise<Outcome> {
  const timeoutMs = invokeTimeoutMs(event);
  try {
    return outcomeOf(await invokeFunction(createFc3Client(target, timeoutMs), event.functionName, event.payload, 'Sync'), event.mode);
  } catch (error) {
    return { kind: 'left', reason: `no answer: ${describeInvokeError(error, { functionName: event.functionName, target, timeoutMs, notFoundHint: 'the message names it' })}` };
  }
}
