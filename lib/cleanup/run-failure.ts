import { deadlineExceeded } from '../core/deadline-exceeded';
import { endedByDeadline, type FailureFacts, type RetryRun } from '../core/retry-policy';

/** What a failed call attempt tells the cleanup's results: the listing's and the dispatch's failures share it. */
interface AttemptFailure extends FailureFacts {
  message: string;
}

/** Why a retry run did not succeed, as the cleanup's results name it. */
interface RunFailure<F extends AttemptFailure> {
  Code: string;
  Message: string;
  /** The last attempt's failure; undefined when the deadline came before the first attempt. */
  last: F | undefined;
}

/**
 * Why the listing of a page or the dispatch of a chunk failed: `DeadlineExceeded` (core's one
 * builder, naming what had not happened yet and the last failure) when the deadline, not a
 * refusal, ended the retries (`endedByDeadline`); otherwise the last failure's own Code and
 * Message. Only for a run that did not succeed.
 */
export function runFailure<F extends AttemptFailure>(run: RetryRun<unknown, F>, unfinished: string): RunFailure<F> {
  const last = run.outcome?.ok === false ? run.outcome.failure : undefined;
  if (last && !endedByDeadline(run)) return { Code: last.code, Message: last.message, last };
  return { ...deadlineExceeded(unfinished, last), last };
}
