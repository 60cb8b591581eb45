/**
 * The command line of `withdraw-script-review` (local/cli.ts) turned into one of three
 * commands, with every check the functions themselves would make done first, so that a typo is
 * a usage error before anything is signed or sent.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseCleanupRequest } from '../lib/cleanup/request';
import type { Credentials } from '../lib/core/credentials';
import { InvalidConfigurationError, InvalidParameterError } from '../lib/core/errors';
import type { FcTarget } from '../lib/fc/client';
import type { QueueTarget } from './redrive/failure-queue';
import { FUNCTION_NAME_PATTERN } from '../lib/fc/function-name';
import { parseWithdrawalItem } from '../lib/withdraw/items';
import { EVENT_KINDS, eventBridgeEvent, httpTriggerEvent, mnsTopicEvent, timerEvent, type EventKind } from './fc-events';
import { defaultMnsPort, LOCAL_ACCOUNT_ID, LOCAL_DEFAULT_PORT, LOCAL_FC_KEY, LOCAL_REGION } from './local-keys';
import { signingSecret } from './signed-curl';

/** A problem the user can fix, reported as one line and exit code 2. */
export class UsageError extends Error {}

export interface Target extends FcTarget {
  endpoint: string;
  /** An `npm start` server (the local key pair), whose refusals and connection errors deserve a hint. */
  local: boolean;
}

export type Mode = 'withdraw' | 'cleanup';

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'sign'; url: string; body: string; secret: string }
  /** `trigger`: set by `send --event`, whose payload is that trigger's FC event (or the event read from --file). */
  | { kind: 'invoke'; mode: Mode; payload: unknown; functionName: string; async: boolean; target: Target; trigger?: EventKind }
  /** `redrive`: the failure queue `queue` read at `mns`, its events invoked again at `target`. */
  | { kind: 'redrive'; queue: string; dryRun: boolean; max: number; target: Target; mns: QueueTarget };

/** The names s.yaml deploys the functions under. */
export const DEFAULT_FUNCTION: Record<Mode, string> = {
  withdraw: 'withdraw-script-review-withdraw',
  cleanup: 'withdraw-script-review-cleanup',
};

/** Longer than each function's timeout in s.yaml (30 s, 600 s), so FC's own timeout answer arrives first. */
export const INVOKE_TIMEOUT_MS: Record<Mode, number> = { withdraw: 60_000, cleanup: 660_000 };

/** s.yaml's `failureQueueName`: where FC parks what its async retries give up on. */
export const DEFAULT_FAILURE_QUEUE = 'withdraw-script-review-failures';
/** How many messages one `redrive` takes unless --max says otherwise. */
export const DEFAULT_REDRIVE_MAX = 100;

export const CREDENTIAL_VARS = 'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET';

const OPTIONS = {
  async: { type: 'boolean' },
  function: { type: 'string' },
  region: { type: 'string' },
  'account-id': { type: 'string' },
  endpoint: { type: 'string' },
  'callback-url': { type: 'string' },
  cleanup: { type: 'string' },
  'older-than-minutes': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'max-withdrawals': { type: 'string' },
  url: { type: 'string' },
  event: { type: 'string' },
  file: { type: 'string' },
  queue: { type: 'string' },
  max: { type: 'string' },
  'mns-endpoint': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const TARGET_OPTIONS = ['async', 'function', 'region', 'account-id', 'endpoint'] as const;
/** Which options each command takes; any other is refused rather than silently ignored. */
const ALLOWED: Record<Mode | 'sign' | 'send' | 'redrive', readonly string[]> = {
  redrive: ['queue', 'dry-run', 'max', 'region', 'account-id', 'endpoint', 'mns-endpoint'],
  withdraw: [...TARGET_OPTIONS, 'callback-url'],
  cleanup: [...TARGET_OPTIONS, 'cleanup', 'older-than-minutes', 'dry-run', 'max-withdrawals'],
  sign: ['url'],
  // The kind says sync or async (`--event async`), so --async is not one of them.
  send: [...TARGET_OPTIONS.filter((name) => name !== 'async'), 'event', 'file', 'callback-url', 'older-than-minutes', 'dry-run', 'max-withdrawals'],
};

const REGION = /^[a-z]{2,}-[a-z0-9-]+$/;
const ACCOUNT_ID = /^\d{1,32}$/;
const WHOLE_NUMBER = /^\d{1,9}$/;

/** `env` supplies PORT, WEBHOOK_SECRET and the ALIBABA_CLOUD_* credentials. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const { values, positionals } = readArgs(argv);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals[0] === 'sign') return signCommand(values, positionals.slice(1), env);
  if (positionals[0] === 'send') return seeHelp(() => sendCommand(values, positionals.slice(1), env));
  if (positionals[0] === 'redrive') return seeHelp(() => redriveCommand(values, positionals.slice(1), env));
  const mode: Mode = values.cleanup === undefined ? 'withdraw' : 'cleanup';
  onlyAllowed(values, mode);
  const functionName = values.function ?? DEFAULT_FUNCTION[mode];
  if (!FUNCTION_NAME_PATTERN.test(functionName)) throw new UsageError(`--function ${JSON.stringify(functionName)} is not a Function Compute function name`);
  const payload = mode === 'cleanup' ? cleanupPayload(values, positionals) : withdrawPayload(values, positionals);
  return { kind: 'invoke', mode, payload, functionName, async: values.async === true, target: resolveTarget(values, env) };
}

/**
 * node:util's parseArgs, its refusals said in this program's words: its own advice (quote the
 * option after `--`, write `--older-than-minutes=-XYZ`) is wrong for this command line.
 */
function readArgs(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS }) as { values: Values; positionals: string[] };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(-{1,2}[^' <]+)/.exec(message)?.[1] ?? 'an option';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option}${closestOption(option)}; see --help`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const takesValue = (OPTIONS as Record<string, { type: string } | undefined>)[option.replace(/^-+/, '')]?.type === 'string';
      throw new UsageError(takesValue ? `${option} needs a value (a whole number or a name, not another option); see --help` : `${option} takes no value; see --help`);
    }
    throw new UsageError(`${message.split('.')[0]}; see --help`);
  }
}

/** `, did you mean --async?` for an option one or two typos away from a real one. */
function closestOption(option: string): string {
  const name = option.replace(/^-+/, '');
  const near = Object.keys(OPTIONS).find((known) => editDistance(name, known) <= 2);
  return near === undefined ? '' : `, did you mean --${near}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function onlyAllowed(values: Values, command: Mode | 'sign' | 'send' | 'redrive'): void {
  const extra = Object.keys(values).filter((name) => name !== 'help' && name !== 'version' && !ALLOWED[command].includes(name));
  if (extra.length > 0) throw new UsageError(`--${extra[0]} does not go with ${command === 'withdraw' ? 'a withdrawal' : command}; see --help`);
}

/** Every usage error of `send` ends "see --help", including those of the checks it shares. */
function seeHelp(parse: () => Command): Command {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError) || error.message.endsWith('see --help')) throw error;
    throw new UsageError(`${error.message}; see --help`);
  }
}

const QUEUE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,255}$/;

/** `redrive [--queue NAME] [--dry-run] [--max N] [target]`: the FC target as for every command, and the queue's MNS endpoint beside it. */
function redriveCommand(values: Values, positionals: string[], env: NodeJS.ProcessEnv): Command {
  onlyAllowed(values, 'redrive');
  if (positionals.length > 0) throw new UsageError(`redrive takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const queue = values.queue ?? DEFAULT_FAILURE_QUEUE;
  if (!QUEUE_NAME.test(queue)) throw new UsageError(`--queue ${JSON.stringify(queue)} is not an MNS queue name (a letter, then letters, digits and -)`);
  const max = values.max === undefined ? DEFAULT_REDRIVE_MAX : wholeNumber(values.max, '--max');
  if (max < 1) throw new UsageError('--max must be at least 1');
  const target = resolveTarget(values, env);
  const endpoint = values['mns-endpoint'] === undefined ? undefined : parseEndpoint(values['mns-endpoint'], '--mns-endpoint', 'https://<account-id>.mns.cn-shanghai.aliyuncs.com');
  const mns: QueueTarget = target.local
    ? { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION, endpoint: endpoint ?? localMnsEndpoint(env), credentials: target.credentials }
    : { accountId: target.accountId, region: target.region, endpoint: endpoint ?? `https://${target.accountId}.mns.${target.region}.aliyuncs.com`, credentials: target.credentials };
  return { kind: 'redrive', queue, dryRun: values['dry-run'] === true, max, target, mns };
}

/** Where `npm start` serves the failure queue: MNS_PORT, or beside PORT as it does. */
function localMnsEndpoint(env: NodeJS.ProcessEnv): string {
  const port = env.MNS_PORT || String(defaultMnsPort(Number(new URL(localEndpoint(env)).port)));
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) throw new UsageError('MNS_PORT must be the port `npm start` serves the failure queue on (1-65535); or pass --mns-endpoint');
  return `http://127.0.0.1:${port}`;
}

/** Which options each kind of `send` takes besides the target ones. */
const SEND_OPTIONS: Record<EventKind, readonly string[]> = {
  http: ['callback-url'],
  async: ['callback-url'],
  eventbridge: [],
  'mns-topic': [],
  timer: ['older-than-minutes', 'dry-run', 'max-withdrawals'],
};

/**
 * `send --event KIND (<ids> | --file PATH)`: the FC event that trigger would hand the function
 * (local/fc-events.ts), for the withdraw function, or the cleanup function for `timer`.
 */
function sendCommand(values: Values, positionals: string[], env: NodeJS.ProcessEnv): Command {
  if (values.async) throw new UsageError('--async does not go with send: --event async queues the item');
  onlyAllowed(values, 'send');
  const kind = values.event;
  if (kind === undefined) throw new UsageError(`send needs --event ${EVENT_KINDS.join('|')}`);
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--event ${JSON.stringify(kind)} is not one of ${EVENT_KINDS.join(', ')}`);
  const trigger = kind as EventKind;
  const mode: Mode = trigger === 'timer' ? 'cleanup' : 'withdraw';
  const payloadOptions = new Set(Object.values(SEND_OPTIONS).flat());
  const own = Object.keys(values).find((name) => payloadOptions.has(name) && !SEND_OPTIONS[trigger].includes(name));
  if (own !== undefined) {
    const why = own === 'callback-url' ? ': its message carries the item alone, and the function calls back to its CALLBACK_URL' : '';
    throw new UsageError(`--${own} does not go with --event ${trigger}${why}`);
  }
  const functionName = values.function ?? DEFAULT_FUNCTION[mode];
  if (!FUNCTION_NAME_PATTERN.test(functionName)) throw new UsageError(`--function ${JSON.stringify(functionName)} is not a Function Compute function name`);
  const target = resolveTarget(values, env);
  const invocation = { kind: 'invoke' as const, mode, functionName, async: trigger === 'async', target, trigger };
  if (values.file !== undefined) {
    const extra = positionals[0] ?? SEND_OPTIONS[trigger].find((name) => values[name as keyof Values] !== undefined);
    if (extra !== undefined) throw new UsageError(`--file holds the whole event; ${positionals[0] === undefined ? `--${extra}` : JSON.stringify(extra)} does not go with it`);
    return { ...invocation, payload: eventFile(values.file) };
  }
  const nowMs = Date.now();
  if (trigger === 'timer') {
    if (positionals.length !== 1) throw new UsageError(`send --event timer expects <InstanceId>, got ${positionals.length} argument(s)`);
    const payload = cleanupPayload({ ...values, cleanup: positionals[0] }, [], 'send --event timer');
    return { ...invocation, payload: timerEvent(JSON.stringify(payload), nowMs) };
  }
  const request = withdrawPayload(values, positionals);
  const body = JSON.stringify(request);
  const payload =
    trigger === 'http' ? httpTriggerEvent(body, secretIfAny(env), nowMs) : trigger === 'eventbridge' ? eventBridgeEvent(body, nowMs) : trigger === 'mns-topic' ? mnsTopicEvent(body, nowMs) : request;
  return { ...invocation, payload };
}

/** The event in a file, as JSON (fc2 sends it re-serialised: the same value, compact). */
function eventFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--file: cannot read ${JSON.stringify(file)} (${(error as { code?: string }).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--file ${JSON.stringify(file)} is not JSON: an FC event is a JSON document`);
  }
}

/** The first WEBHOOK_SECRET, as `sign` uses it; none: the event goes unsigned (accepted where ALLOW_UNSIGNED_HTTP=true, as under `npm start` without a secret). */
function secretIfAny(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return signingSecret(env.WEBHOOK_SECRET);
  } catch (error) {
    if (error instanceof InvalidConfigurationError) throw new UsageError(error.message);
    throw error;
  }
}

function withdrawPayload(values: Values, positionals: string[]): Record<string, unknown> {
  if (positionals.length !== 2) throw new UsageError(`expected <InstanceId> <ScriptId>, got ${positionals.length} argument(s); see --help`);
  const item = withParameterCheck(() => parseWithdrawalItem({ InstanceId: positionals[0], ScriptId: positionals[1] }), (path) => path);
  return { ...item, ...callbackUrl(values['callback-url']) };
}

/** The cleanup function's own payload rule (lib/cleanup/request.ts), reported in option names. */
function cleanupPayload(values: Values, positionals: string[], command = '--cleanup'): Record<string, unknown> {
  if (positionals.length > 0) throw new UsageError(`--cleanup takes the InstanceId as its value and no other arguments, got ${JSON.stringify(positionals[0])}`);
  if (values['older-than-minutes'] === undefined) throw new UsageError(`${command} needs --older-than-minutes N: reviews older than N minutes are withdrawn`);
  const payload = {
    InstanceId: values.cleanup,
    OlderThanMinutes: wholeNumber(values['older-than-minutes'], '--older-than-minutes'),
    ...(values['dry-run'] ? { DryRun: true } : {}),
    ...(values['max-withdrawals'] === undefined ? {} : { MaxWithdrawals: wholeNumber(values['max-withdrawals'], '--max-withdrawals') }),
  };
  const optionOf: Record<string, string> = { InstanceId: command === '--cleanup' ? '--cleanup <InstanceId>' : '<InstanceId>', OlderThanMinutes: '--older-than-minutes', MaxWithdrawals: '--max-withdrawals' };
  withParameterCheck(() => parseCleanupRequest(payload), (path) => optionOf[path] ?? path);
  return payload;
}

function wholeNumber(text: string, option: string): number {
  if (!WHOLE_NUMBER.test(text)) throw new UsageError(`${option} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Runs a lib/ parser and turns its InvalidParameterError into a usage error naming the option. */
function withParameterCheck<T>(parse: () => T, nameOf: (path: string) => string): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidParameterError)) throw error;
    throw new UsageError(error.issues.map((issue) => `invalid ${nameOf(issue.Path)}: ${issue.Message}`).join('; '));
  }
}

function callbackUrl(value: string | undefined): { CallbackUrl?: string } {
  if (value === undefined) return {};
  if (!/^https?:$/.test(parseUrl(value)?.protocol ?? '')) throw new UsageError('--callback-url must be an absolute http(s) URL');
  return { CallbackUrl: value };
}

/** `sign [--url URL] <body>`: what to sign and where the printed curl line will send it. */
function signCommand(values: Values, positionals: string[], env: NodeJS.ProcessEnv): Command {
  onlyAllowed(values, 'sign');
  if (positionals.length !== 1) throw new UsageError(`sign expects one argument, the JSON body, got ${positionals.length}; see --help`);
  const body = positionals[0]!;
  try {
    JSON.parse(body);
  } catch {
    throw new UsageError('sign: the body must be JSON (the printed line sends content-type: application/json)');
  }
  const url = values.url ?? `${localEndpoint(env)}/`;
  if (!/^https?:$/.test(parseUrl(url)?.protocol ?? '')) throw new UsageError('--url must be an absolute http(s) URL, e.g. the HTTP trigger URL from `npx s withdraw info`');
  return { kind: 'sign', url, body, secret: webhookSecret(env) };
}

function webhookSecret(env: NodeJS.ProcessEnv): string {
  let secret: string | undefined;
  try {
    secret = signingSecret(env.WEBHOOK_SECRET);
  } catch (error) {
    if (error instanceof InvalidConfigurationError) throw new UsageError(error.message);
    throw error;
  }
  if (!secret) {
    throw new UsageError('sign: WEBHOOK_SECRET is not set in this shell; export the whsec_… secret the function was started or deployed with (`WEBHOOK_SECRET=… npm start` sets it for npm start alone)');
  }
  return secret;
}

function resolveTarget(values: Values, env: NodeJS.ProcessEnv): Target {
  const { region, 'account-id': accountId } = values;
  const endpoint = values.endpoint === undefined ? undefined : parseEndpoint(values.endpoint, '--endpoint', 'https://<account-id>.cn-shanghai.fc.aliyuncs.com');
  if (region === undefined && accountId === undefined) {
    return { endpoint: endpoint ?? localEndpoint(env), accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION, credentials: LOCAL_FC_KEY, local: true };
  }
  if (region === undefined || accountId === undefined) throw new UsageError('--region and --account-id go together: they name the deployed function');
  if (!REGION.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not a region id such as cn-shanghai`);
  if (!ACCOUNT_ID.test(accountId)) throw new UsageError('--account-id must be the numeric Alibaba Cloud account id');
  return { endpoint: endpoint ?? `https://${accountId}.${region}.fc.aliyuncs.com`, accountId, region, credentials: envCredentials(env), local: false };
}

/** Where `npm start` listens, by the same PORT variable it reads. */
function localEndpoint(env: NodeJS.ProcessEnv): string {
  const port = env.PORT || String(LOCAL_DEFAULT_PORT);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    throw new UsageError('PORT must be the port `npm start` listens on (1-65535); or pass --endpoint');
  }
  return `http://127.0.0.1:${port}`;
}

/** fc2 appends `/<version>/functions/...` to the endpoint (the MNS SDK `/queues/...`), so only an origin makes sense. */
function parseEndpoint(value: string, option: string, example: string): string {
  const url = parseUrl(value);
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new UsageError(`${option} must be an http(s) origin such as ${example}`);
  }
  return url.origin;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function envCredentials(env: NodeJS.ProcessEnv): Credentials {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) throw new UsageError(`missing credentials: set ${CREDENTIAL_VARS} to invoke the deployed function`);
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined;
  // fc2 would throw its own TypeError for this; naming the variable is more useful.
  if (accessKeyId.startsWith('STS') && !securityToken) throw new UsageError('missing credentials: an STS AccessKey needs ALIBABA_CLOUD_SECURITY_TOKEN');
  return { accessKeyId, accessKeySecret, securityToken };
}
