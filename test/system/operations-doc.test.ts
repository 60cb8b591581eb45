/**
 * docs/OPERATIONS.md, line by line, as an operator in one shell would follow it: every fenced block
 * and every inline command is run, or, where it needs the real cloud, checked against what it
 * names. A line no rule covers fails, so no new line goes in untested.
 *
 * - run here: `export` lines (in bash, their values parsed by the functions' own configuration
 *   parser), `s config add` and `s preview` (the installed `s`, offline, in a temporary HOME),
 *   the SLS index recipe (with a stand-in `aliyun` answering `get-index` and recording
 *   `update-index`), the cleanup payload (by the cleanup's own parser);
 * - run elsewhere: the handler example (test/local/npm-start.test.ts, against a started stack),
 *   the SLS queries (test/system/log-queries.test.ts, against the lines the functions write);
 * - checked: any `node build/cli.js …` line parses with the CLI's own parser (local/cli-args.ts);
 *   an `npm` line names a script of package.json; an `s` line names a resource of s.yaml and a
 *   command of `s` or its fc3 component; a `NAME=value` prefix names a variable something reads.
 *
 * Placeholders (`<InstanceId>`…) stand for the operator's own values: each is replaced by a sample
 * of its kind, and a placeholder with no sample fails.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { signedCurl, validityNote } from '../../local/signed-curl';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCleanupRequest } from '../../lib/cleanup/request';
import { configVariables, parseCleanupConfig, parseWithdrawConfig } from '../../lib/runtime/config';
import { parseCommandLine } from '../../local/cli-args';
import { fencedBlocks, inlineSpans, markedBlock } from '../support/doc-blocks';
import { ROOT } from '../support/local-stack';
import { removeSHome } from '../support/s-home';

const DOC = 'docs/OPERATIONS.md';
const markdown = readFileSync(path.join(ROOT, DOC), 'utf8');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const sYaml = read('s.yaml');
const packageScripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

const ACCOUNT_ID = '1234567890123456';
/** A sample for each placeholder the guide uses. */
const PLACEHOLDERS: Record<string, string> = {
  '<AccessKeyId>': 'LTAI5tDocWalkerKey01',
  '<AccessKeySecret>': 'doc-walker-secret-not-a-real-one',
  '<uid>': ACCOUNT_ID,
  '<InstanceId>': '38d2e8ed-04e9-4dac-83b5-a8e57642ef13',
  '<ScriptId>': 'e4e2a770-b97b-465a-80d8-06dca008c503',
  '<system_url>': 'https://withdraw-script-review-withdraw-abcdefghij.cn-shanghai.fcapp.run',
  '<id>': 'a1b2c3d4e5f6',
  '<start>': '2026-12-01T00:00:00Z',
  '<end>': '2026-12-01T01:00:00Z',
};

function filled(line: string): string {
  const text = line.replace(/<[A-Za-z_]+>/g, (p) => {
    if (!(p in PLACEHOLDERS)) throw new Error(`placeholder ${p} has no sample in this test: add one`);
    return PLACEHOLDERS[p]!;
  });
  return text;
}

// -------------------------------------------------------------------------------------------
// What the guide's lines may name.

const ramPolicies = () => readdirSync(path.join(ROOT, 'deploy/ram')).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(read(`deploy/ram/${f}`)) as unknown);

/** `s`'s own commands, and the fc3 component's (Function Compute, "Common Serverless Devs commands"). */
const S_COMMANDS = ['config', 'preview', 'init', 'env', 'set', 'registry', 'component', 'clean', 'verify'];
const FC3_COMMANDS = ['deploy', 'build', 'remove', 'plan', 'logs', 'local', 'invoke', 'instance', 'version', 'alias', 'provision', 'concurrency', 'layer', 'info', 'sync', 's2tos3'];
const S_RESOURCES = Object.keys((parseYaml(sYaml) as { resources: Record<string, unknown> }).resources);
/** What the functions read, what s.yaml takes from the deploying shell, and what `npm start` reads. */
const CONFIG_VARIABLES = new Set([...configVariables.withdraw(), ...configVariables.cleanup()]);
const S_YAML_VARIABLES = new Set([...sYaml.matchAll(/\$\{env\('(\w+)'/g)].map((m) => m[1]!));
const LOCAL_SOURCES = (readdirSync(path.join(ROOT, 'local'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => read(`local/${f}`)).join('\n');
const readsVariable = (name: string) => CONFIG_VARIABLES.has(name) || S_YAML_VARIABLES.has(name) || new RegExp(`\\benv\\.${name}\\b`).test(LOCAL_SOURCES);

/** The words bash makes of a line (quotes, `$(…)` and all), placeholders filled. */
function words(line: string, env: NodeJS.ProcessEnv = {}): string[] {
  const result = spawnSync('bash', ['-c', `set -- ${filled(line)}\nfor word in "$@"; do printf '%s\\0' "$word"; done`], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`bash cannot read ${line}: ${result.stderr}`);
  return result.stdout.split('\0').slice(0, -1);
}

// -------------------------------------------------------------------------------------------
// The walk: each line or block with the rule that covers it.

interface Step {
  where: string;
  text: string;
  check: () => Promise<void> | void;
}

/** What the operator's shell holds so far: every `export` of the guide, in order. */
const shellEnv: NodeJS.ProcessEnv = {};
let sHome: string | undefined;

/** A temporary HOME with `s config add` run as the guide prints it (the first `s` line needing one). */
function sEnv(): NodeJS.ProcessEnv {
  sHome ??= mkdtempSync(path.join(tmpdir(), 'ops-doc-s-'));
  return { PATH: process.env.PATH, HOME: sHome };
}

afterAll(() => {
  // s leaves a detached update check behind that may still be writing under HOME/.s.
  removeSHome(sHome);
});

/** Each distinct `s` line is run once: the guide names `s preview` several times. */
const ranS = new Set<string>();

function runS(argv: string[], env: NodeJS.ProcessEnv): void {
  if (ranS.has(argv.join(' '))) return;
  ranS.add(argv.join(' '));
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin/s'), argv, { cwd: ROOT, env: { ...env, ...sEnv() }, encoding: 'utf8', timeout: 60_000 });
  expect(result.status, `s ${argv.join(' ')}: ${result.stderr}${result.stdout}`).toBe(0);
}

/** `npx s [resource] command …` or `s …`: run offline where `s` can, else named against s.yaml and fc3. */
function checkS(argv: string[]): void {
  if (argv.length === 0) return void expect(existsSync(path.join(ROOT, 'node_modules/.bin/s'))).toBe(true);
  const [first, ...rest] = argv;
  const resource = S_RESOURCES.includes(first!) ? first : undefined;
  const command = resource ? rest[0] : first;
  expect([...S_COMMANDS, ...FC3_COMMANDS], `s ${argv.join(' ')}: neither a resource of s.yaml nor a command`).toContain(command);
  if (command === 'config' && argv[1] === 'add') runS([...argv, '-f'], {});
  if (command === 'preview') runS([...argv, '-o', 'json', '--silent'], shellEnv);
}

function checkNpm(argv: string[]): void {
  const [command, script] = argv;
  if (command === 'ci' || command === 'test' || command === 'start') return void (command === 'ci' ? expect(existsSync(path.join(ROOT, 'package-lock.json'))).toBe(true) : expect(packageScripts).toHaveProperty(command!));
  expect(command, argv.join(' ')).toBe('run');
  expect(packageScripts, argv.join(' ')).toHaveProperty(script!.replace(/^-s$/, argv[2] ?? ''));
}

/** `node build/cli.js …`: the CLI's own parser takes it, in the shell the guide has built up. */
function checkCli(argv: string[]): void {
  expect(() => parseCommandLine(argv, shellEnv)).not.toThrow();
}

/** `export A=… B=…`: run in bash, each name read by something, each value one the functions accept. */
function checkExport(line: string): void {
  const names = [...filled(line).matchAll(/(?:^export|\s)([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!);
  const script = `${filled(line)}\nnode -e 'process.stdout.write(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((n) => [n, process.env[n]]))))' ${names.join(' ')}`;
  const result = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH, ...shellEnv }, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  Object.assign(shellEnv, JSON.parse(result.stdout) as Record<string, string>);
  for (const name of names) expect(readsVariable(name), `${name} is read by nothing`).toBe(true);
  const configured = Object.fromEntries(Object.entries(shellEnv).filter(([name]) => CONFIG_VARIABLES.has(name)));
  expect(() => parseWithdrawConfig(configured)).not.toThrow();
  expect(() => parseCleanupConfig(configured)).not.toThrow();
}

const SAMPLE_SECRET = `whsec_${Buffer.alloc(24).toString('base64')}`;

/** A banner's signed curl line, quoted with its values shortened: the same words as the banner prints, values aside. */
function checkSignedCurlShape(line: string): void {
  const shape = (text: string) => words(text).map((word) => word.replace(/^(webhook-[a-z]+): .*$/, '$1: …').replace(/^\{.*\}$/, '{…}'));
  const printed = signedCurl('http://127.0.0.1:9000/', '{"InstanceId":"i","ScriptId":"s"}', SAMPLE_SECRET, Date.now()).line;
  expect(shape(line.replace(/^curl /, ''))).toEqual(shape(printed.replace(/^curl /, '')));
}

/** One command line (of a block or inline): which rule covers it. */
function lineCheck(raw: string): (() => void) | undefined {
  const line = raw.replace(/\s+#\s.*$/, '').replace(/\s*…$/, '').trim();
  if (line.startsWith('export ')) return () => checkExport(line);
  const pipeline = line.split(' | ');
  if (pipeline.length > 1 && pipeline.slice(1).some((part) => part !== 'bash')) return undefined;
  const assignments = /^((?:[A-Z][A-Z0-9_]*=\S*\s+)*)(.*)$/.exec(pipeline[0]!)!;
  const names = [...assignments[1]!.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!);
  const command = assignments[2]!;
  const checkNames = () => names.forEach((name) => expect(readsVariable(name), `${name} is read by nothing`).toBe(true));
  const argvOf = (prefix: string) => words(command.slice(prefix.length));
  if (command === 'npx s' || command.startsWith('npx s ')) return () => (checkNames(), checkS(argvOf('npx s')));
  if (command === 's' || command.startsWith('s ')) return () => (checkNames(), checkS(argvOf('s')));
  if (command.startsWith('npm ')) return () => (checkNames(), checkNpm(argvOf('npm')));
  if (command.startsWith('node build/cli.js')) return () => (checkNames(), checkCli(argvOf('node build/cli.js')));
  const script = /^node (scripts\/[\w.-]+\.mjs)((?:\s+--[\w-]+)*)$/.exec(command);
  if (script) return () => (checkNames(), expect(script[2]!.trim().split(/\s+/).filter(Boolean).every((flag) => read(script[1]!).includes(`'${flag}'`)), command).toBe(true));
  return undefined;
}

function steps(): Step[] {
  const found: Array<Step & { line: number }> = [];
  for (const block of fencedBlocks(markdown)) {
    const where = `${DOC}:${block.line}`;
    const whole = blockCheck(block.lang, block.marker, block.text);
    if (whole !== null) {
      found.push({ line: block.line, where, text: block.text.trim(), check: whole ?? uncovered(block.text) });
      continue;
    }
    block.text.split('\n').forEach((text, i) => {
      if (text.trim()) found.push({ line: block.line + 1 + i, where: `${DOC}:${block.line + 1 + i}`, text: text.trim(), check: lineCheck(text) ?? uncovered(text) });
    });
  }
  for (const span of inlineSpans(markdown)) {
    // Quoted output (bold), and settings or names that are not command lines (`PORT=0`, `s.yaml`).
    if (span.bold || !/^(npx|npm|node|s)( |$)|^([A-Z][A-Z0-9_]*=\S*\s+)+(npx|npm|node) /.test(span.text) || span.text === 's') continue;
    found.push({ line: span.line, where: `${DOC}:${span.line} (inline)`, text: span.text, check: lineCheck(span.text) ?? uncovered(span.text) });
  }
  return found.sort((a, b) => a.line - b.line);
}

const uncovered = (text: string) => () => {
  throw new Error(`no rule of test/system/operations-doc.test.ts covers this line; run it or check it there: ${text.trim()}`);
};

/** A block taken whole (a check), a block of command lines taken line by line (null), or a block no rule covers (undefined). */
function blockCheck(lang: string, marker: string | undefined, text: string): (() => Promise<void> | void) | null | undefined {
  if (marker === 'handler-example') return () => expect(read('test/local/npm-start.test.ts')).toContain("markedBlock(readFileSync(path.join(ROOT, 'docs/OPERATIONS.md'), 'utf8'), 'handler-example')");
  if (marker?.startsWith('sls-query: ')) return () => expect(read('test/system/log-queries.test.ts')).toMatch(/block\.marker\?\.startsWith\('sls-query: '\)/);
  // A RAM policy is one of deploy/ram/, as printed (test/system/ram-policies.test.ts holds those to least privilege).
  if (lang === 'json' && /"Statement"/.test(text)) return () => expect(ramPolicies()).toContainEqual(JSON.parse(text));
  if (lang === 'json') return () => void parseCleanupRequest(JSON.parse(text));
  if (lang === 'sh' && /^aliyun sls /m.test(text)) return () => runIndexRecipe(text);
  if (lang === 'sh') return null;
  if (lang === '' && /^\s*curl /.test(text)) return () => checkBannerQuote(text);
  return undefined;
}

/** The banner's signed lines, quoted: the curl line's shape, the note as the banner words it, the CLI line parsed. */
function checkBannerQuote(text: string): void {
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (line.startsWith('curl ')) checkSignedCurlShape(line);
    else if (line.startsWith('(')) expect(line).toContain(validityNote(0).replace(/, until .*$/, ''));
    // The note above it says to export the secret first.
    else if (line.startsWith('node build/cli.js ')) expect(() => parseCommandLine(words(line.slice('node build/cli.js '.length)), { ...shellEnv, WEBHOOK_SECRET: SAMPLE_SECRET })).not.toThrow();
    else throw new Error(`not a line the banner prints: ${line}`);
  }
}

/** The SLS index recipe, run as printed but for its scratch files, with a stand-in `aliyun`. */
function runIndexRecipe(text: string): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'ops-doc-sls-'));
  try {
    const current = { line: { token: [',', ' '], caseSensitive: false }, keys: { __topic__: { type: 'text', token: [' '], caseSensitive: false } }, ttl: 30 };
    writeFileSync(path.join(dir, 'current-index.json'), JSON.stringify(current));
    mkdirSync(path.join(dir, 'bin'));
    const standIn = path.join(dir, 'bin', 'aliyun');
    writeFileSync(standIn, `#!/usr/bin/env bash\ncase "$1 $2" in\n  "sls get-index") printf '%s\\n' "$@" > "${dir}/get-args"; cat "${dir}/current-index.json" ;;\n  "sls update-index") printf '%s\\0' "$@" > "${dir}/update-args" ;;\n  *) echo "stand-in aliyun: no $1 $2" >&2; exit 2 ;;\nesac\n`);
    chmodSync(standIn, 0o755);
    const script = filled(text.replace(/\/tmp\//g, `${dir}/`));
    const result = spawnSync('bash', ['-e', '-c', script], { cwd: ROOT, env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'get-args'), 'utf8')).toContain(`--project=serverless-cn-shanghai-${PLACEHOLDERS['<id>']}`);
    const args = readFileSync(path.join(dir, 'update-args'), 'utf8').split('\0');
    const value = (flag: string) => JSON.parse(args[args.indexOf(flag) + 1]!) as unknown;
    expect(args).toContain(`--project=serverless-cn-shanghai-${PLACEHOLDERS['<id>']}`);
    expect(args).toContain('--logstore=default-logs');
    // The index as it was, with the `message` entry merged in: nothing of the old one lost.
    expect(value('--line')).toEqual(current.line);
    expect(value('--keys')).toEqual({ ...current.keys, ...(JSON.parse(read('deploy/sls/index-message.json')) as object) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const walk = steps();

describe(`${DOC}, every command line as printed`, () => {
  it('finds the blocks and command lines the guide is made of', () => {
    expect(walk.length).toBeGreaterThan(30);
    expect(walk.some((s) => s.text.startsWith('node build/cli.js sign'))).toBe(true);
    expect(markedBlock(markdown, 'handler-example')).toContain('require("./dist/withdraw/index.js")');
  });

  // In order, as one shell would run them: later lines use what earlier ones exported.
  for (const step of walk) {
    it(`${step.where}: ${step.text.split('\n')[0]!.slice(0, 90)}`, async () => {
      await step.check();
    }, 60_000);
  }
});

describe('the walker', () => {
  it('covers no line it does not know, and a CLI line the parser refuses fails', () => {
    expect(lineCheck('docker run something')).toBeUndefined();
    expect(lineCheck('npm run deploy | tee log')).toBeUndefined();
    expect(() => lineCheck('node build/cli.js --asynk x y')!()).toThrow();
    expect(() => lineCheck('npx s withdraw fly')!()).toThrow();
    expect(() => lineCheck('npm run no-such-script')!()).toThrow();
    expect(() => lineCheck('NO_SUCH_VARIABLE=1 npm start')!()).toThrow();
    expect(() => filled('node build/cli.js <Unknown>')).toThrow(/no sample/);
  });
});
