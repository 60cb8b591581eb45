import { isUnderReview } from '../outboundbot/script-states';
import type { ListedScript } from './pages';

/** A listed script known to be under review, with the fields selection relies on. */
export type StaleReview = ListedScript & { Status: string; UpdateTime: number };

interface Selection {
  /** Every stale review, oldest first. */
  eligible: StaleReview[];
  /** The part of `eligible` this run takes on (the cap applied). */
  selected: StaleReview[];
}

/**
 * Scripts under review whose last update is older than `olderThanMinutes` before
 * `nowMs`. A script without an UpdateTime is never stale: its age cannot be told.
 * Oldest first, so a capped run clears the longest-waiting reviews and the next run
 * continues where this one stopped. The state is checked here even when the listing asked
 * for review states only: a server that ignored StatusList must not get another state withdrawn.
 */
export function selectStaleReviews(
  scripts: readonly ListedScript[],
  options: { nowMs: number; olderThanMinutes: number; maxWithdrawals?: number },
): Selection {
  const cutoffMs = options.nowMs - options.olderThanMinutes * 60_000;
  const eligible = scripts
    .filter((s): s is StaleReview => isUnderReview(s.Status) && s.UpdateTime !== undefined && s.UpdateTime < cutoffMs)
    .sort((a, b) => a.UpdateTime - b.UpdateTime || (a.ScriptId < b.ScriptId ? -1 : a.ScriptId > b.ScriptId ? 1 : 0));
  return { eligible, selected: options.maxWithdrawals === undefined ? eligible : eligible.slice(0, options.maxWithdrawals) };
}
