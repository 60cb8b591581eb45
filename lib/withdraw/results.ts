import type { CallbackReport } from '../webhooks/callback';
import type { WithdrawResult } from './withdraw-item';

/** An item's result as the withdraw function answers it: the withdrawal, and its callback's delivery. */
export interface ItemResult extends WithdrawResult {
  Callback?: CallbackReport;
}

/** The answer to a batch (`{"Items": [...]}`, or an EventBridge array): one result per item, in order. */
export interface BatchResult {
  Success: boolean;
  Results: ItemResult[];
}

export function batchResult(results: ItemResult[]): BatchResult {
  return { Success: results.every((r) => r.Success), Results: results };
}
