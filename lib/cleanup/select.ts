import { isUnderReview } from '../outboundbot/script-states';
import type { ListedScript, ScriptSink } from './pages';

/** A listed script known to be under review, with the fields selection relies on. */
export type StaleReview = ListedScript & { Status: string; UpdateTime: number };

interface Selection {
  /** How many stale reviews the listing held. */
  eligible: number;
  /** The oldest of them that this run takes on (the cap applied), oldest first. */
  selected: StaleReview[];
}

interface SelectOptions {
  nowMs: number;
  olderThanMinutes: number;
  maxWithdrawals?: number;
}

const oldestFirst = (a: StaleReview, b: StaleReview): number => a.UpdateTime - b.UpdateTime || (a.ScriptId < b.ScriptId ? -1 : a.ScriptId > b.ScriptId ? 1 : 0);

/**
 * Takes the listing's scripts one by one and keeps the stale reviews: under review, last updated
 * more than `olderThanMinutes` before `nowMs`. A script without an UpdateTime is never stale: its
 * age cannot be told. The state is checked here even when the listing asked for review states
 * only: a server that ignored StatusList must not get another state withdrawn. Oldest first, so a
 * capped run clears the longest-waiting reviews and the next run continues where this one
 * stopped. It holds at most twice the cap, whatever the instance holds: 100,000 listed scripts
 * kept whole pushed a 128 MB instance past its memory.
 */
export function createStaleSelector(options: SelectOptions): ScriptSink & { selection(): Selection } {
  const cutoffMs = options.nowMs - options.olderThanMinutes * 60_000;
  const cap = options.maxWithdrawals ?? Number.POSITIVE_INFINITY;
  let kept: StaleReview[] = [];
  let eligible = 0;
  const trim = () => (kept = kept.sort(oldestFirst).slice(0, cap));
  return {
    take(script) {
      if (!isUnderReview(script.Status) || script.UpdateTime === undefined || script.UpdateTime >= cutoffMs) return;
      eligible += 1;
      kept.push(script as StaleReview);
      if (kept.length >= 2 * cap) trim();
    },
    selection: () => ({ eligible, selected: trim() }),
  };
}

/** The stale reviews among `scripts` (see {@link createStaleSelector}). */
export function selectStaleReviews(scripts: readonly ListedScript[], options: SelectOptions): Selection {
  const selector = createStaleSelector(options);
  for (const script of scripts) selector.take(script);
  return selector.selection();
}
