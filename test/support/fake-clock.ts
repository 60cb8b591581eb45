import type { Clock } from '../../lib/core/clock';

/** A clock whose sleeps return at once and move time forward: retry schedules run in microseconds. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(
    public now = Date.UTC(2026, 10, 24, 3, 0, 0),
    private readonly randomValue = 0.5,
  ) {}
  nowMs = () => this.now;
  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.now += ms;
  };
  random = () => this.randomValue;
  advance(ms: number) {
    this.now += ms;
  }
}
