/**
 * A selected script that a reviewer acted on between the listing and its withdrawal is refused
 * by WithdrawScriptReview: that is the review ending, not the cleanup failing. Reading the
 * script tells the two apart; only a refusal of our own withdrawal costs that read.
 */
import type { Clock } from '../core/clock';
import { describeScript } from '../outboundbot/call';
import type { OutboundBotClient } from '../outboundbot/client';
import { isUnderReview } from '../outboundbot/script-states';
import type { WithdrawalItem, WithdrawResult } from '../withdraw/withdraw-item';

/** A script skipped because it had left review: its state when read (`NotExist` when it is gone). */
export interface LeftReview {
  ScriptId: string;
  Status: string;
}

interface ReadDeps {
  client: OutboundBotClient;
  clock: Clock;
  readTimeoutMs: number;
  workEndMs: number;
}

/** A definite refusal (a 4xx other than throttling) of a withdrawal that was attempted. */
const isRefusal = (result: WithdrawResult): boolean =>
  !result.Success && !result.Retryable && result.Attempts > 0 && result.HttpStatusCode >= 400 && result.HttpStatusCode < 500 && result.HttpStatusCode !== 429;

/** The script's state after a refusal, when it is no longer under review; undefined when it still is, or cannot be read. */
export async function leftReview(item: WithdrawalItem, result: WithdrawResult, deps: ReadDeps): Promise<LeftReview | undefined> {
  if (!isRefusal(result)) return undefined;
  if (result.Code === 'NotExist.Script') return { ScriptId: item.ScriptId, Status: 'NotExist' };
  const remainingMs = deps.workEndMs - deps.clock.nowMs();
  if (remainingMs <= 0) return undefined;
  const read = await describeScript(deps.client, item, deps.readTimeoutMs, remainingMs);
  if (!read.ok) return read.failure.code === 'NotExist.Script' ? { ScriptId: item.ScriptId, Status: 'NotExist' } : undefined;
  const status = read.value?.Status;
  return typeof status === 'string' && !isUnderReview(status) ? { ScriptId: item.ScriptId, Status: status } : undefined;
}
