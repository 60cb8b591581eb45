/**
 * What went wrong with an invocation through fc2, in one line for the user: the FC status and
 * request id of a refusal, or the network error, with a hint for the target it was sent to.
 * Shared by the CLI's invocations and `redrive`.
 *
 * @module
 */
import { CREDENTIAL_VARS, type Target } from './cli-args';

export interface InvocationTarget {
  functionName: string;
  target: Target;
  /** The client's timeout, to say how long it waited. */
  timeoutMs: number;
  /** What to check when there is no such function; the CLI's invocations name --function. */
  notFoundHint?: string;
}

/**
 * fc2 reports an HTTP error as `POST <path> failed with <status>. requestid: <id>, message: …`
 * and reads only FC 2.0's `ErrorCode`, so the status comes from that message; transport
 * errors keep Node's `code`.
 */
export function describeInvokeError(error: unknown, { functionName, target, timeoutMs, notFoundHint = 'check --function' }: InvocationTarget): string {
  const http = /failed with (\d{3})\. requestid: ([^,]*),/.exec(errorMessage(error));
  if (http) {
    const status = Number(http[1]);
    const requestId = http[2] && http[2] !== 'undefined' ? `; request id ${http[2]}` : '';
    if (status === 404) return `no function named '${functionName}' at ${target.endpoint} (HTTP 404 FunctionNotFound${requestId}); ${notFoundHint}`;
    if (status === 401 || status === 403) {
      const hint = target.local ? 'the local server accepts only its own key' : `check ${CREDENTIAL_VARS} and that the key may invoke '${functionName}'`;
      return `the call was refused (HTTP ${status}: signature or credentials): ${hint}${requestId}`;
    }
    return `the invocation failed with HTTP ${status}${requestId}`;
  }
  switch (errorCode(error)) {
    case 'ECONNREFUSED':
      return `cannot reach ${target.endpoint}: connection refused${target.local ? '; is `npm start` running?' : ''}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host of ${target.endpoint}; check --region, --account-id or --endpoint`;
    case 'ECONNRESET':
      return `the connection to ${target.endpoint} was reset before an answer`;
  }
  if (error instanceof Error && error.name.includes('RequestTimeout')) return `no answer from ${target.endpoint} within ${timeoutMs / 1000} s`;
  if (error instanceof SyntaxError) return `unexpected answer from ${target.endpoint}: ${oneLine(error.message)}`;
  return `the invocation failed: ${oneLine(errorMessage(error))}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Node may wrap one refused connection per address family in an AggregateError. */
function errorCode(error: unknown): string | undefined {
  const withCode = error as { code?: unknown; errors?: Array<{ code?: unknown }> };
  const code = withCode?.code ?? withCode?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

export function oneLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.split('\n', 1)[0]!.trim();
}
