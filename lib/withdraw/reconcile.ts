/**
 * Truthful outcomes after an ambiguous attempt (docs/DESIGN.md, "Exactly once"): an attempt
 * that got no answer, or a gateway error, may still have withdrawn the script, and the retry is
 * then refused as "not under review". Reading the script tells which: if it is in the state a
 * withdrawal leaves, and no approval does, changed while one of our attempts could have been
 * acting, that withdrawal was ours.
 */
import type { Span } from '../idempotency/store';
import { describeScript, mayHaveActed, type CallFailure } from '../outboundbot/call';
import type { OutboundBotClient } from '../outboundbot/client';
import { isUnderReview, WITHDRAWN_TO } from '../outboundbot/script-states';
import type { WithdrawalItem } from './withdraw-item';

/** When our attempts without a definite answer could have acted: from the first one's start to the last one's end, with slack. */
export type UnansweredWindow = Span;

/** Server-side processing after our timeout, and the clocks' difference: the window's far end only. */
export const RECONCILE_SLACK_MS = 30_000;

export interface ReconcileInput {
  client: OutboundBotClient;
  item: WithdrawalItem;
  unanswered: UnansweredWindow;
  /** The script's state before our first attempt, when known (the cleanup's listing). */
  statusBefore: string | undefined;
  /** The UpdateTime another request's answered withdrawal of this script left (its mark in the shared store). */
  withdrawnElsewhereAtMs?: number;
  readTimeoutMs: number;
  remainingMs: number;
}

/**
 * `ours`: the script as read, in the state our withdrawal leaves. `not-ours`: the refusal stands.
 * `unconfirmed`: the review ended in the window, in a state an approval leaves too, and the state
 * before is unknown: neither outcome can be claimed. `refused`: the read itself was refused for
 * good (the script is gone, or the role may not read it). `unknown`: the read got no usable answer.
 */
export type Reconciliation =
  | { verdict: 'ours'; script: Record<string, unknown> }
  | { verdict: 'not-ours' }
  | { verdict: 'unconfirmed'; script: Record<string, unknown> }
  | { verdict: 'refused'; code: string; statusCode: number; message: string }
  | { verdict: 'unknown'; reason: string };

export async function reconcileRefusal(input: ReconcileInput): Promise<Reconciliation> {
  const read = await describeScript(input.client, input.item, input.readTimeoutMs, input.remainingMs);
  if (!read.ok) {
    const { failure } = read;
    if (!isDefiniteRefusal(failure)) return { verdict: 'unknown', reason: failure.code };
    return { verdict: 'refused', code: failure.code, statusCode: failure.statusCode!, message: failure.message };
  }
  const script = read.value;
  if (script === undefined || typeof script.Status !== 'string' || typeof script.UpdateTime !== 'number') return { verdict: 'unknown', reason: 'no script state in the answer' };
  return verdictOn(script as Record<string, unknown> & { Status: string; UpdateTime: number }, input);
}

/** A 4xx that is not throttling: the same read would be refused again (404 NotExist.Script, a 403 for a missing action). */
const isDefiniteRefusal = (failure: CallFailure): boolean =>
  !mayHaveActed(failure) && failure.statusCode! >= 400 && failure.statusCode !== 429 && !failure.code.startsWith('Throttling');

/**
 * Clock skew errs on the safe side: a change stamped before our first attempt is never claimed.
 * DRAFTED is where a withdrawal of a new script's review goes, and no approval does: ours, unless
 * the script was known to be an update under review. PUBLISHED is where a withdrawal of an update
 * goes, and an approval of either: never ours, and unconfirmed unless the script was known to be
 * new (then it was approved). A change another request of ours answered for (its mark) is its own.
 * Who else acted cannot be read from the script: a DRAFTED in the window is reported as our
 * withdrawal even if a person withdrew it at the same moment; the review did end as asked.
 */
function verdictOn(script: Record<string, unknown> & { Status: string; UpdateTime: number }, input: ReconcileInput): Reconciliation {
  const { unanswered, statusBefore } = input;
  const inWindow = script.UpdateTime >= unanswered.sinceMs && script.UpdateTime <= unanswered.untilMs;
  if (!inWindow || isUnderReview(script.Status) || script.UpdateTime === input.withdrawnElsewhereAtMs) return { verdict: 'not-ours' };
  const fromNew = statusBefore === undefined || statusBefore === NEW_SCRIPT_REVIEW;
  if (script.Status === WITHDRAWN_TO[NEW_SCRIPT_REVIEW]) return fromNew ? { verdict: 'ours', script } : { verdict: 'not-ours' };
  if (script.Status === WITHDRAWN_TO[UPDATE_REVIEW]) return statusBefore === NEW_SCRIPT_REVIEW ? { verdict: 'not-ours' } : { verdict: 'unconfirmed', script };
  return { verdict: 'not-ours' };
}

const NEW_SCRIPT_REVIEW = 'EXAMINE_IN_PROGRESS';
const UPDATE_REVIEW = 'PUBLISHED_AND_EXAMINE_IN_PROGRESS';
