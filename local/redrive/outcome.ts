/**
 * What a synchronous redrive invocation's answer means for its message. The functions throw
 * (FC flags it with `x-fc-error-type`) only when a retry could help, and return their result
 * otherwise (docs/DESIGN.md). So a message is deleted only on an answer that settles it:
 * - withdraw: `Success`, or a final refusal of each failed item (a script no longer under
 *   review, a 4xx from OutboundBot), each naming its ScriptId. The function's own refusal of
 *   what it was sent (InvalidParameter…) is answered, not thrown, so FC never parked it: it
 *   means redrive misread the message.
 * - cleanup: only a run that succeeded; it returns `Success: false` rather than throw when
 *   OutboundBot is down, and a later rerun lists only what is still in review.
 * Anything else (thrown, still Retryable, not a result) leaves the message in the queue.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from '../../lib/core/records';
import type { Mode } from '../cli-args';
import { oneLine } from '../invoke-error';

export type Outcome =
  | { kind: 'redriven'; detail: string }
  | { kind: 'done'; detail: string }
  | { kind: 'left'; reason: string };

type Result = Record<string, unknown>;

export function outcomeOf({ headers, data }: { headers: IncomingHttpHeaders; data: unknown }, mode: Mode): Outcome {
  const answer = jsonOf(data);
  const errorType = headers['x-fc-error-type'];
  if (errorType) return { kind: 'left', reason: `the function failed again (${String(errorType)}): ${oneLine(field(answer, 'errorMessage') ?? '')}` };
  if (!isResult(answer)) return { kind: 'left', reason: 'the function answered something that is not a result' };
  if (mode === 'cleanup') {
    return answer.Success === true ? { kind: 'redriven', detail: 'the cleanup run succeeded' } : { kind: 'left', reason: `the cleanup run did not succeed: ${codes([answer])}` };
  }
  const results = Array.isArray(answer.Results) ? answer.Results.filter(isResult) : [answer];
  const retryable = results.filter((r) => r.Retryable === true);
  if (retryable.length > 0) return { kind: 'left', reason: `still retryable: ${codes(retryable)}` };
  if (answer.Success === true) return { kind: 'redriven', detail: results.length > 1 ? `${results.length} items, all succeeded` : `Success (${String(answer.Code ?? 'OK')})` };
  const failed = results.filter((r) => r.Success !== true);
  if (failed.length === 0 || !failed.every(refusedByOutboundBot)) {
    return { kind: 'left', reason: `the function refused what it was sent (${codes(failed.length > 0 ? failed : [answer])}), which FC never parks: redrive may have misread the message` };
  }
  return { kind: 'done', detail: `a final answer: ${codes(failed)}` };
}

/** An item's final refusal about its script: it names the script, and it is not the function's own refusal of what it was sent. */
const refusedByOutboundBot = (r: Result): boolean => typeof r.ScriptId === 'string' && r.ScriptId !== '' && r.Code !== 'InvalidParameter';

/** A function's result: `Success` a boolean, and beside any `Success: false` a `Code` (or, for a batch, its `Results`). */
function isResult(value: unknown): value is Result {
  return isRecord(value) && typeof value.Success === 'boolean' && (value.Success || typeof value.Code === 'string' || Array.isArray(value.Results));
}

function codes(results: Result[]): string {
  return results.map((r) => `${String(r.Code ?? 'no Code')}${r.HttpStatusCode === undefined ? '' : ` (HTTP ${String(r.HttpStatusCode)})`}${r.ScriptId === undefined ? '' : ` for ${String(r.ScriptId)}`}`).join(', ');
}

/** FC returns the handler's result as the body; fc2 parses it only when labelled JSON. */
function jsonOf(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

function field(value: unknown, name: string): unknown {
  return isRecord(value) ? value[name] : undefined;
}
