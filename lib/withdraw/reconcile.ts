/**
 * Truthful outcomes after an ambiguous attempt (docs/DESIGN.md, "Exactly once"): an attempt
 * that got no answer may still have withdrawn the script, and the retry is then refused as
 * "not under review". Reading the script tells which: if it is in the state a withdrawal leaves,
 * changed while one of our unanswered attempts could have been acting, that withdrawal was ours.
 */
import { describeScript } from '../outboundbot/call';
import type { OutboundBotClient } from '../outboundbot/client';
import type { WithdrawalItem } from './withdraw-item';

/** When our unanswered attempts could have acted: from the first one's start to the last one's end, with slack. */
export interface UnansweredWindow {
  sinceMs: number;
  untilMs: number;
}

/** A review withdrawn goes back to a draft (a new script) or to the published version (an update). */
const WITHDRAWN_STATES: ReadonlySet<string> = new Set(['DRAFTED', 'PUBLISHED']);

/** Server-side processing after our timeout, and the clocks' difference: the window's far end only. */
export const RECONCILE_SLACK_MS = 30_000;

export interface ReconcileInput {
  client: OutboundBotClient;
  item: WithdrawalItem;
  unanswered: UnansweredWindow;
  readTimeoutMs: number;
  remainingMs: number;
}

/** `ours`: the script as read; `not-ours`: the refusal stands; `unknown`: the read got no usable answer. */
export type Reconciliation = { verdict: 'ours'; script: Record<string, unknown> } | { verdict: 'not-ours' } | { verdict: 'unknown'; reason: string };

export async function reconcileRefusal(input: ReconcileInput): Promise<Reconciliation> {
  const { item, unanswered } = input;
  const outcome = await describeScript(input.client, item, input.readTimeoutMs, input.remainingMs);
  if (!outcome.ok) return { verdict: 'unknown', reason: outcome.failure.code };
  const script = outcome.value;
  if (script === undefined || typeof script.Status !== 'string' || typeof script.UpdateTime !== 'number') return { verdict: 'unknown', reason: 'no script state in the answer' };
  // Clock skew errs on the safe side: a change stamped before our first attempt is never claimed.
  const inWindow = script.UpdateTime >= unanswered.sinceMs && script.UpdateTime <= unanswered.untilMs;
  return WITHDRAWN_STATES.has(script.Status) && inWindow ? { verdict: 'ours', script } : { verdict: 'not-ours' };
}
