import type { BatchResult, ItemResult } from './result-schema';

export type { BatchResult, ItemResult } from './result-schema';

export function batchResult(results: ItemResult[]): BatchResult {
  return { Success: results.every((r) => r.Success), Results: results };
}
