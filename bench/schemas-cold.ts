// A fresh process timing zod's share of a cold start by phase (issue #19): loading the module
// that holds zod and the schemas, building the schemas a single withdrawal uses, their first
// parse.
import path from 'node:path';
import { reportAndExit } from './child-report';

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const start = cpuMs();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const schemas = require(path.join(__dirname, 'bench-schemas.js')) as { build(): unknown; parse(): unknown };
const loaded = cpuMs();
schemas.build();
const built = cpuMs();
schemas.parse();
reportAndExit({ moduleInitMs: loaded - start, firstBuildMs: built - loaded, firstParseMs: cpuMs() - built });
