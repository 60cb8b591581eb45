// `npm run deploy`'s first step: what s would otherwise find missing halfway, or not at all, said
// before anything is built, one line each with what to do. s resolves `${config('AccountID')}`
// from its access file and `${env(...)}` from this shell; without them it fails in a block of
// lines, or (the account) renders a role ARN with nothing in it.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

const GUIDE = 'docs/OPERATIONS.md, "Deploying with Serverless Devs"';

export function deployProblems(env, home) {
  const problems = [];
  if (!env.WEBHOOK_SECRET?.trim()) problems.push(`WEBHOOK_SECRET is not set in this shell: export WEBHOOK_SECRET="whsec_$(openssl rand -base64 32)" and keep it, your webhook sender signs with it (${GUIDE})`);
  if (!env.OUTBOUNDBOT_INSTANCE_ID?.trim()) problems.push(`OUTBOUNDBOT_INSTANCE_ID is not set in this shell: export the instance the nightly cleanup sweeps (${GUIDE})`);
  const file = path.join(home, '.s', 'access.yaml');
  const access = existsSync(file) ? parse(readFileSync(file, 'utf8')) : undefined;
  // Any alias will do: `npm run deploy -- -a <alias>` reaches s, not this check.
  if (!Object.values(access ?? {}).some((alias) => alias?.AccountID)) {
    problems.push(`Serverless Devs has no access with an AccountID (s.yaml's role ARNs need it): run npx s config add --AccessKeyID … --AccessKeySecret … --AccountID … -a default (${GUIDE})`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = deployProblems(process.env, process.env.HOME ?? os.homedir());
  for (const problem of problems) process.stderr.write(`npm run deploy: ${problem}\n`);
  process.exit(problems.length > 0 ? 1 : 0);
}
