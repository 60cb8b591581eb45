// Warm calls of the built withdraw bundle in a process of its own, measuring the heap after a
// full GC (run with --expose-gc): what a long-lived FC instance keeps from call to call.
const path = require('node:path');
const { handler } = require(path.resolve(__dirname, '../../dist/withdraw/index.js'));
const { role, instanceId, calls, warmup } = JSON.parse(process.argv[2]);
process.stdout.write = () => true;

async function run(from, count) {
  for (let i = from; i < from + count; i++) {
    const event = Buffer.from(JSON.stringify({ InstanceId: instanceId, ScriptId: `s${i}` }));
    const result = await handler(event, { requestId: `heap-${i}`, credentials: role, function: { name: 'withdraw', timeout: 30 } });
    if (!result.Success) throw new Error(JSON.stringify(result));
  }
}
const heapAfterGc = () => {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
};

(async () => {
  await run(0, warmup);
  const start = heapAfterGc();
  await run(warmup, calls);
  const end = heapAfterGc();
  process.send({ start, end });
})().catch((error) => {
  process.send({ error: String(error) });
});
