import { setTimeout as sleep } from 'node:timers/promises';

/** Time and chance, injected so retry and deadline logic runs in milliseconds under test. */
export interface Clock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1): the jitter source. */
  random(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms) => sleep(ms),
  random: () => Math.random(),
};
