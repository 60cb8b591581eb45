/** The states WithdrawScriptReview accepts (a script under review); every other state is left alone. */
export const REVIEW_STATES: ReadonlySet<string> = new Set(['EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS']);

export const isUnderReview = (status: unknown): boolean => typeof status === 'string' && REVIEW_STATES.has(status);

/**
 * Review state → the state a successful WithdrawScriptReview leaves the script in: a new script
 * goes back to its draft, an update under review back to the published version (the API page's
 * answers show both; the emulator follows the same rule).
 */
export const WITHDRAWN_TO: Readonly<Record<string, string>> = {
  EXAMINE_IN_PROGRESS: 'DRAFTED',
  PUBLISHED_AND_EXAMINE_IN_PROGRESS: 'PUBLISHED',
};
