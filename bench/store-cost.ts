// The shared store's cost (information): warm CPU per withdrawal of the handler with
// IDEMPOTENCY_REDIS_URL set over the same handler with the memory store, measured in the same
// warm rounds, with the Redis commands a withdrawal sends (read from redis-server's INFO).
import type { RedisServer } from '../local/redis-server';
import { WARM_CALLS } from './config';
import { ms, ratio, spread, us, type Row } from './rows';
import { summarize } from './stats';
import { REDIS_VARIANT } from './warm-rounds';
import { pairwise, type Drift, type WarmStats } from './warm-stats';

const STORE_COST_NAME = 'store cost: warm CPU, Redis / memory store';

export function storeCostRow(stats: WarmStats, redis: RedisServer | undefined): Row {
  if (!redis) return { id: 'store-cost', name: STORE_COST_NAME, value: null, unit: '×', measured: 'skipped: redis-server is not installed', budget: null, status: 'skipped', data: {} };
  const { cpu, wall, drift } = stats;
  const value = cpu[REDIS_VARIANT]!.median / cpu.handler!.median;
  const commands = summarize(stats.samples.redisCommands.map((c) => c / WARM_CALLS));
  const used = commands.median > 0;
  return {
    id: 'store-cost',
    name: STORE_COST_NAME,
    value,
    unit: '×',
    measured: `${ratio(value)} = ${spread(cpu[REDIS_VARIANT]!, us)} / ${spread(cpu.handler!, us)}; Redis commands / withdrawal ${commands.median.toFixed(2)}; wall ${spread(wall[REDIS_VARIANT]!, ms)} / ${spread(wall.handler!, ms)}`,
    budget: null,
    status: used ? 'info' : 'not-measurable',
    data: {
      cpuUsPerCall: { redis: cpu[REDIS_VARIANT], memory: cpu.handler },
      wallMsPerCall: { redis: wall[REDIS_VARIANT], memory: wall.handler },
      redisCommandsPerWithdrawal: commands,
      pairwiseRatio: pairwise(stats, REDIS_VARIANT, 'handler'),
      drift: { redis: drift[REDIS_VARIANT], memory: drift.handler },
      redisUrl: redis.url.replace(/:\d+\//, ':<port>/'),
    },
    note: storeCostNote(used, stats.drifting),
  };
}

function storeCostNote(used: boolean, drifting: [string, Drift][]): string | undefined {
  if (!used) return 'the handler sent Redis no command: IDEMPOTENCY_REDIS_URL is not honoured yet, so both variants used the memory store';
  if (drifting.some(([k]) => k === 'handler' || k === REDIS_VARIANT)) return 'a variant is not steady over the rounds (see the warm row): the ratio of medians depends on the window';
  return undefined;
}
