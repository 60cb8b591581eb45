/**
 * Truthful outcomes after an ambiguous attempt (docs/DESIGN.md, "Exactly once"): an attempt
 * that got no answer may still have withdrawn the script, and the retry is then refused as
 * "not under review". Reading the script tells which: if it left review after our first
 * attempt started, that withdrawal was ours.
 */
import { isRecord } from '../core/records';
import { attemptCall } from '../outboundbot/call';
import type { OutboundBotClient } from '../outboundbot/client';
import { isUnderReview } from '../outboundbot/script-states';
import type { WithdrawalItem } from './withdraw-item';

export interface ReconcileInput {
  client: OutboundBotClient;
  item: WithdrawalItem;
  /** When our first attempt was sent: a change before it was somebody else's. */
  firstAttemptStartMs: number;
  readTimeoutMs: number;
  remainingMs: number;
}

/** The script as DescribeScript reads it when our earlier attempt withdrew it; otherwise undefined. */
export async function reconcileRefusal(input: ReconcileInput): Promise<Record<string, unknown> | undefined> {
  const { item } = input;
  const outcome = await attemptCall(input.client, 'DescribeScript', { InstanceId: item.InstanceId, ScriptId: item.ScriptId }, input.readTimeoutMs, input.remainingMs);
  if (!outcome.ok || !isRecord(outcome.value.Script)) return undefined;
  const script = outcome.value.Script;
  // Clock skew errs on the safe side: a withdrawal stamped before our start is never claimed.
  const leftReviewAfterUs = typeof script.UpdateTime === 'number' && script.UpdateTime >= input.firstAttemptStartMs;
  return !isUnderReview(script.Status) && leftReviewAfterUs ? script : undefined;
}
