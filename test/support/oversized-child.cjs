// A fresh instance of the built withdraw bundle handed one HTTP-trigger event of argv[2] MB,
// built in place as FC hands it over (one Buffer): reports the answer and how far the
// process's peak RSS rose while the handler ran (run with --expose-gc).
const path = require('node:path');
const { handler } = require(path.resolve(__dirname, '../../dist/withdraw/index.js'));
process.stdout.write = () => true;

function httpEventOf(bodyBytes) {
  const head = Buffer.from('{"version":"v1","rawPath":"/","headers":{"content-type":"application/json"},"queryParameters":{},"isBase64Encoded":false,"requestContext":{"http":{"method":"POST"}},"body":"');
  const tail = Buffer.from('"}');
  const event = Buffer.allocUnsafe(head.length + bodyBytes + tail.length);
  head.copy(event, 0);
  event.fill('a', head.length, head.length + bodyBytes);
  tail.copy(event, head.length + bodyBytes);
  return event;
}

(async () => {
  const event = httpEventOf(Number(process.argv[2]) * 1024 * 1024);
  const context = { requestId: 'oversized', credentials: {}, function: { name: 'withdraw', timeout: 30 } };
  // A first small call loads what the handler loads lazily, so only the big event's cost is measured.
  await handler(Buffer.from('{}'), context);
  global.gc();
  const beforeKb = process.resourceUsage().maxRSS;
  const answer = await handler(event, context);
  process.send({ answer, growthMb: (process.resourceUsage().maxRSS - beforeKb) / 1024 });
})().catch((error) => process.send({ error: String(error) }));
