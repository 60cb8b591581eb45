/**
 * What a synchronous redrive invocation's answer means for its message. The functions throw
 * (FC flags it with `x-fc-error-type`) only when a retry could help, and return their result
 * otherwise (docs/DESIGN.md), so: thrown, or any result still marked Retryable, means the
 * cause is not over and the message stays; a returned Success is redriven; any other returned
 * answer is final (a script no longer under review, a 4xx refusal) and the message is done.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from '../../lib/core/records';

export type Outcome =
  | { kind: 'redriven'; detail: string }
  | { kind: 'done'; detail: string }
  | { kind: 'left'; reason: string };

export function outcomeOf({ headers, data }: { headers: IncomingHttpHeaders; data: unknown }): Outcome {
  const answer = jsonOf(data);
  const errorType = headers['x-fc-error-type'];
  if (errorType) return { kind: 'left', reason: `the function failed again (${String(errorType)}): ${firstLine(field(answer, 'errorMessage'))}` };
  if (!isRecord(answer)) return { kind: 'left', reason: 'the function answered something that is not a result' };
  const results = Array.isArray(answer.Results) ? answer.Results.filter(isRecord) : [answer];
  const retryable = results.filter((r) => r.Retryable === true);
  if (retryable.length > 0) return { kind: 'left', reason: `still retryable: ${codes(retryable)}` };
  if (answer.Success === true) return { kind: 'redriven', detail: results.length > 1 ? `${results.length} items, all succeeded` : `Success (${String(answer.Code ?? 'OK')})` };
  const failed = results.filter((r) => r.Success !== true);
  return { kind: 'done', detail: `a final answer: ${codes(failed.length > 0 ? failed : [answer])}` };
}

function codes(results: Array<Record<string, unknown>>): string {
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

function firstLine(value: unknown): string {
  return String(value ?? '').split('\n', 1)[0]!.trim();
}
