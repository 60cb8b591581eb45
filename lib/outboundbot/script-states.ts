/** The states WithdrawScriptReview accepts (a script under review); every other state is left alone. */
export const REVIEW_STATES: ReadonlySet<string> = new Set(['EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS']);

export const isUnderReview = (status: unknown): boolean => typeof status === 'string' && REVIEW_STATES.has(status);
