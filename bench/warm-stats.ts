// The warm rounds reduced to what the rows say: medians per variant, per-round ratios, and
// whether each variant was steady over the rounds (a ratio of medians assumes it was).
import { WARM_CALLS, WARM_ROUNDS, WARM_WARMUP } from './config';
import { us } from './rows';
import { median, summarize, type Summary } from './stats';
import type { WarmSamples } from './warm-rounds';

export interface Drift {
  firstRoundsUs: number;
  lastRoundsUs: number;
  lastOverFirst: number;
}

/** Rounds at each end compared to say whether a variant was steady. */
const DRIFT_ROUNDS = Math.max(1, Math.floor(WARM_ROUNDS / 3));

function driftOf(perCallUs: number[]): Drift {
  const first = median(perCallUs.slice(0, DRIFT_ROUNDS));
  const last = median(perCallUs.slice(-DRIFT_ROUNDS));
  return { firstRoundsUs: first, lastRoundsUs: last, lastOverFirst: last / first };
}

export interface WarmStats {
  samples: WarmSamples;
  cpu: Record<string, Summary>;
  wall: Record<string, Summary>;
  drift: Record<string, Drift>;
  /** A ratio of medians assumes each variant is in a steady state: those that are not. */
  drifting: [string, Drift][];
}

export const mapValues = <T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));

export function warmStats(samples: WarmSamples): WarmStats {
  const drift = mapValues(samples.perCallUs, driftOf);
  return {
    samples,
    cpu: mapValues(samples.perCallUs, (v) => summarize(v)),
    wall: mapValues(samples.perCallWallMs, (v) => summarize(v)),
    drift,
    drifting: Object.entries(drift).filter(([, d]) => d.lastOverFirst > 1.25 || d.lastOverFirst < 0.8),
  };
}

/** CPU per call of `a` over `b`, round by round. */
export const pairwise = ({ samples }: WarmStats, a: string, b: string) => summarize(samples.perCallUs[a]!.map((v, i) => v / samples.perCallUs[b]![i]!));

export function driftNote(drifting: [string, Drift][]): string | undefined {
  if (!drifting.length) return undefined;
  const which = drifting.map(([k, d]) => `${k} ${us(d.firstRoundsUs)} in the first ${DRIFT_ROUNDS} rounds, ${us(d.lastRoundsUs)} in the last ${DRIFT_ROUNDS}`);
  return `not steady: ${which.join('; ')} (calls ${WARM_WARMUP}–${WARM_WARMUP + WARM_ROUNDS * WARM_CALLS} of each process)`;
}
