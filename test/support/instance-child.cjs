// One FC instance: a built bundle (argv[2], `withdraw` by default) in a process of its own, serving one invocation
// at a time as FC's nodejs20 runtime does. The parent sends {id, event (base64), context} and
// gets {id, value} or {id, error}; the bundle's log lines go to stdout.
const path = require('node:path');
const { handler } = require(path.resolve(__dirname, '../../dist', process.argv[2] || 'withdraw', 'index.js'));

process.on('message', async ({ id, event, context }) => {
  try {
    const value = await handler(Buffer.from(event, 'base64'), context);
    process.send({ id, value });
  } catch (error) {
    process.send({ id, error: { name: error.name, message: error.message, code: error.code, result: error.result } });
  }
});
process.send({ ready: true });
