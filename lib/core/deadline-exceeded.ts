/**
 * The Code and Message of work the deadline stopped: `unfinished` says what had not happened
 * yet ("before the chunk was queued"), and the last failure, if an attempt was made, is named.
 * The one builder for the withdrawal's result, the cleanup's listing failure and its chunks.
 */
export function deadlineExceeded(unfinished: string, lastFailure: { code: string } | undefined): { Code: 'DeadlineExceeded'; Message: string } {
  return {
    Code: 'DeadlineExceeded',
    Message: `The invocation deadline arrived ${unfinished}${lastFailure ? ` (last: ${lastFailure.code})` : ''}`,
  };
}
