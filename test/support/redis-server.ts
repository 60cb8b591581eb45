// A real redis-server for the tests (local/redis-server.ts), never a mock. Where the binary is
// missing the Redis tests skip and say so; CI sets REQUIRE_REDIS=1, which turns that into a failure.
import { REDIS_BINARY, redisInstalled } from '../../local/redis-server';

export { freePort, startRedis, type RedisServer } from '../../local/redis-server';

export const redisAvailable = redisInstalled();

if (!redisAvailable && process.env.REQUIRE_REDIS === '1') {
  throw new Error(`REQUIRE_REDIS=1 but ${REDIS_BINARY} cannot be run: install the Debian package redis-server`);
}
if (!redisAvailable) console.warn(`[redis tests skipped] ${REDIS_BINARY} is not installed (apt-get install redis-server)`);
