// One cleanup invocation of the built bundle in a process of its own (run inside a memory cgroup
// by test/attack/cleanup-memory.test.ts): argv[2] is {event, context, out}; it writes its peak
// RSS, the answer's size and the summary's counts to `out` (stdout carries the bundle's log lines).
const fs = require('node:fs');
const path = require('node:path');
const { handler } = require(path.resolve(__dirname, '../../dist/cleanup/index.js'));

const { event, context, out } = JSON.parse(process.argv[2]);
handler(Buffer.from(event, 'base64'), context).then(
  (result) => {
    const { Success, Code, Listed, TotalCount, Selected, Withdrawn, Dispatched, Failed, Truncated, Complete, Remaining, durationMs } = result;
    const answerBytes = Buffer.byteLength(JSON.stringify(result));
    const summary = { Success, Code, Listed, TotalCount, Selected, Withdrawn, Dispatched, Failed, Truncated, Complete, Remaining: Remaining?.length, durationMs };
    fs.writeFileSync(out, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, answerBytes, summary }));
  },
  (error) => fs.writeFileSync(out, JSON.stringify({ error: String(error), maxRssKb: process.resourceUsage().maxRSS })),
);
