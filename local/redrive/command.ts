/**
 * `withdraw-script-review redrive`: opens the failure queue, runs the redrive (or its dry run)
 * and prints what it did: one block per message, then the counts and each left message's reason.
 *
 * @module
 */
import type { Command } from '../cli-args';
import { MAX_PEEK, openFailureQueue } from './failure-queue';
import { invokeTimeoutMs, redriveEvent } from './invoke';
import { dryRun, redrive } from './redrive';

/** `clean`: nothing left; `left`: some message stays in the queue; `queue-error`: the queue could not be read to the end. */
export type RedriveVerdict = 'clean' | 'left' | 'queue-error';

/** How much longer than the client's wait a taken message stays hidden. */
const HOLD_MARGIN_SECONDS = 30;

export async function runRedrive(command: Extract<Command, { kind: 'redrive' }>, print: (line: string) => void, error: (line: string) => void): Promise<RedriveVerdict> {
  const queue = openFailureQueue(command.mns, command.queue);
  const common = { queue, owner: command.target, max: command.max, nowMs: Date.now, print };
  if (command.dryRun) {
    const { shown, queueError } = await dryRun(common);
    if (queueError) return fail(error, command, queueError);
    const first = shown === MAX_PEEK ? `the first ${shown} visible messages` : `${shown} message(s) visible`;
    print(`dry run: ${first} in ${command.queue} (peeked: nothing was taken, invoked or deleted)`);
    return 'clean';
  }
  const report = await redrive({
    ...common,
    redrive: (event) => redriveEvent(event, command.target),
    holdSeconds: (event) => invokeTimeoutMs(event) / 1000 + HOLD_MARGIN_SECONDS,
  });
  const taken = report.redriven + report.done + report.left.length;
  if (taken > 0 || !report.queueError) print(`redrive of ${command.queue}: ${report.redriven} redriven, ${report.done} done, ${report.left.length} left`);
  for (const { messageId, reason } of report.left) print(`  left ${messageId}: ${reason}`);
  if (report.queueError) return fail(error, command, report.queueError);
  return report.left.length > 0 ? 'left' : 'clean';
}

function fail(error: (line: string) => void, { mns, target }: Extract<Command, { kind: 'redrive' }>, reason: string): RedriveVerdict {
  const hint = reason.endsWith('ECONNREFUSED') && target.local ? '; is `npm start` running?' : reason.includes('(HTTP 403)') ? '; check the keys and that they may read the queue' : '';
  error(`the failure queue at ${mns.endpoint}: ${reason}${hint}`);
  return 'queue-error';
}
