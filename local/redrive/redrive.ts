/**
 * The redrive of the failure queue: each parked message is taken (received, so MNS hides it
 * from any other runner), shown, invoked again with its original payload, and deleted only
 * once its outcome is final — redriven, or answered final. A message whose redrive failed
 * retryably, whose answer was lost, or that could not be read stays in the queue; at the end
 * of the run it is made visible again, so the next run takes it at once. Two runs at once
 * never take the same message while one holds it, and a message taken twice (its holder died,
 * or an answer was lost) is answered the second time from the function's delivery record.
 *
 * @module
 */
import type { FcTarget } from '../../lib/fc/client';
import type { Outcome } from './outcome';
import type { FailureQueue, QueueMessage } from './failure-queue';
import { QueueError, MAX_PEEK } from './failure-queue';
import { readParkedEvent, type ParkedEvent } from './parked-event';

export interface RedriveOptions {
  queue: FailureQueue;
  /** The account and region whose functions a message must name (lib/redrive/parked-event.ts). */
  owner: Pick<FcTarget, 'accountId' | 'region'>;
  /** Invokes the event's function synchronously; never throws (no answer is `left`). */
  redrive(event: ParkedEvent): Promise<Outcome>;
  /** How long a taken message is hidden while its invocation runs: longer than the client waits for it. */
  holdSeconds(event: ParkedEvent): number;
  /** At most this many messages are taken. */
  max: number;
  nowMs: () => number;
  print: (line: string) => void;
}

export interface RedriveReport {
  redriven: number;
  done: number;
  left: Array<{ messageId: string; reason: string }>;
  /** The queue failed during the run (it was not read to the end), e.g. refused credentials. */
  queueError?: string;
}

/** MNS's shortest visibility timeout: a left message is visible again a second after the run. */
const RELEASE_SECONDS = 1;
const RELEASE_MARGIN_MS = 100;

export async function redrive(options: RedriveOptions): Promise<RedriveReport> {
  const report: RedriveReport = { redriven: 0, done: 0, left: [] };
  const held = new Map<string, string>(); // messageId → receipt handle of each left message
  try {
    while (held.size + report.redriven + report.done < options.max) {
      const message = await options.queue.receive();
      if (message === undefined) break;
      // It came round again (the run outlasted its hold): every message before it was taken.
      if (held.has(message.messageId)) {
        held.set(message.messageId, message.receiptHandle!);
        break;
      }
      await takeOne(message, options, report, held);
    }
  } catch (error) {
    if (!(error instanceof QueueError)) throw error;
    report.queueError = error.message;
  }
  await release(options.queue, held);
  return report;
}

async function takeOne(message: QueueMessage, options: RedriveOptions, report: RedriveReport, held: Map<string, string>): Promise<void> {
  const leave = (reason: string, handle: string) => {
    report.left.push({ messageId: message.messageId, reason });
    held.set(message.messageId, handle);
    options.print(`  left: ${reason}; the message stays in the queue`);
  };
  const event = readParkedEvent(message.body, options.owner);
  options.print(describe(message, event, options.nowMs()));
  if ('unreadable' in event) return leave(`not redriven: ${event.unreadable}`, message.receiptHandle!);
  const handle = await options.queue.hide(message.receiptHandle!, options.holdSeconds(event));
  const outcome = await options.redrive(event);
  if (outcome.kind === 'left') return leave(outcome.reason, handle);
  let gone = 'message deleted';
  try {
    await options.queue.delete(handle);
  } catch (error) {
    if (!(error instanceof QueueError)) throw error;
    // Taken and deleted by another run once this run's hold lapsed: nothing stays.
    if (error.code === 'MessageNotExist') gone = 'the message was already gone (another run took it after this run\'s hold lapsed)';
    // Redriven, but still parked: the next run's invocation is answered from the delivery record.
    else return leave(`${outcome.kind} (${outcome.detail}), but ${error.message}`, handle);
  }
  report[outcome.kind] += 1;
  options.print(`  ${outcome.kind}: ${outcome.detail}; ${gone}`);
}

/**
 * Left messages become visible again for the next run instead of when their hold ends; the run
 * ends once they are, so a `redrive` started after this one exits finds them.
 */
async function release(queue: FailureQueue, held: ReadonlyMap<string, string>): Promise<void> {
  if (held.size === 0) return;
  for (const handle of held.values()) {
    try {
      await queue.hide(handle, RELEASE_SECONDS);
    } catch (error) {
      // Its hold ends by itself: the message is only visible later.
      if (!(error instanceof QueueError)) throw error;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, RELEASE_SECONDS * 1000 + RELEASE_MARGIN_MS));
}

/** `--dry-run`: a peek, which hides, counts and deletes nothing (so it never holds a message back from a real run). */
export async function dryRun(options: Pick<RedriveOptions, 'queue' | 'owner' | 'max' | 'nowMs' | 'print'>): Promise<{ shown: number; queueError?: string }> {
  let messages: QueueMessage[];
  try {
    messages = await options.queue.peek(Math.min(options.max, MAX_PEEK));
  } catch (error) {
    if (!(error instanceof QueueError)) throw error;
    return { shown: 0, queueError: error.message };
  }
  for (const message of messages) {
    const event = readParkedEvent(message.body, options.owner);
    options.print(describe(message, event, options.nowMs()));
    options.print('unreadable' in event ? `  would be left: ${event.unreadable}` : `  would be redriven: ${event.functionName} invoked again with its original payload`);
  }
  return { shown: messages.length };
}

/** One line per message: its id, age, function, FC request id, why it was parked, and what it is about. */
function describe(message: QueueMessage, event: ParkedEvent | { unreadable: string }, nowMs: number): string {
  const head = `message ${message.messageId}, parked ${age(nowMs - message.enqueueTimeMs)} ago`;
  if ('unreadable' in event) return `${head}: unreadable (${event.unreadable})`;
  return `${head}: ${event.functionName}, request ${event.requestId}, ${event.why}; ${event.subject}`;
}

function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return seconds < 172_800 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} days`;
}
