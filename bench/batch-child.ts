// 500 withdrawals as five batches of 100 arriving together (FC instance concurrency), sharing
// BATCH_CONCURRENCY=16 upstream calls, in a process of its own so its peak RSS is the function's.
import { performance } from 'node:perf_hooks';

const [bundle, endpoint, accessKeyId, accessKeySecret, securityToken, instanceId, firstIndex] = process.argv.slice(2) as [string, string, string, string, string, string, string];
process.env.OUTBOUNDBOT_ENDPOINT = endpoint;
process.env.OUTBOUNDBOT_PROTOCOL = 'http';
process.env.BATCH_CONCURRENCY = '16';
// The log lines are produced (that cost is real) but not printed to the terminal.
process.stdout.write = (() => true) as typeof process.stdout.write;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require(bundle) as { handler: (event: Buffer, context: unknown) => Promise<{ Success: boolean }> };

async function main() {
  const start = Number(firstIndex);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, batch) => {
      const Items = Array.from({ length: 100 }, (_, i) => ({ InstanceId: instanceId, ScriptId: `bench-${start + batch * 100 + i}` }));
      const context = { requestId: `bench-batch-${batch}`, credentials: { accessKeyId, accessKeySecret, securityToken }, function: { name: 'withdraw', timeout: 60 } };
      return handler(Buffer.from(JSON.stringify({ Items })), context);
    }),
  );
  if (!results.every((r) => r.Success)) throw new Error('a batch withdrawal failed');
  const elapsedMs = performance.now() - started;
  process.stderr.write(`${JSON.stringify({ elapsedMs, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}
main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
