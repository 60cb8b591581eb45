// `npm run deploy`'s last step: `s deploy` with the arguments given, its terminal untouched (its
// prompts still work). When s fails on the network, one more line says what happened and what to
// do: above all when the fc3 component, which s downloads from its registry on first use, could
// not be fetched.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { errorMessages, runS } from './serverless-devs.mjs';

/** What s uses when `s set registry` was never run. */
export const DEFAULT_REGISTRY = 'https://api.devsapp.cn/v3';
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b\s*(\S*)/;

export function registryOf(home) {
  const file = path.join(home, 'set-config.yml');
  return (existsSync(file) && parse(readFileSync(file, 'utf8'))?.registry) || DEFAULT_REGISTRY;
}

/** Whether an fc3 component is in s's cache (a folder `fc3` with the `.s.lock` s writes beside it). */
export function fc3Cached(dir, depth = 4) {
  if (!existsSync(dir) || depth < 0) return false;
  return readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isDirectory() && ((entry.name === 'fc3' && existsSync(path.join(dir, 'fc3', '.s.lock'))) || fc3Cached(path.join(dir, entry.name), depth - 1)));
}

/** The one line for a failed run's error messages, or undefined when s's own words are all there is. */
export function explain(messages, home) {
  const found = messages.map((m) => NETWORK_ERROR.exec(m)).find(Boolean);
  if (!found) return undefined;
  const what = `${found[1]}${found[2] ? ` ${found[2]}` : ''}`;
  if (!fc3Cached(path.join(home, 'components'))) {
    return `s could not download its fc3 component from the registry ${registryOf(home)} (${what}): check this machine's network and proxy (\`npx s set proxy\`), or the registry s uses (\`npx s set registry\`, kept in ${path.join(home, 'set-config.yml')}); once downloaded, the component is cached in ${path.join(home, 'components')} and deploys no longer fetch it, or deploy from a machine that reaches the registry (docs/OPERATIONS.md, "Troubleshooting")`;
  }
  return `s lost the network while deploying (${what}): check this machine's network and proxy (\`npx s set proxy\`), then run npm run deploy again; it deploys the same s.yaml (docs/OPERATIONS.md, "Troubleshooting")`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, traceId, home } = runS(['deploy', ...process.argv.slice(2)]);
  const line = code === 0 ? undefined : explain(errorMessages(home, traceId), home);
  if (line) process.stderr.write(`npm run deploy: ${line}\n`);
  process.exit(code);
}
