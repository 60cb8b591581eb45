#!/usr/bin/env node
/**
 * `withdraw-script-review <InstanceId> <ScriptId>`: invokes the withdraw function through the
 * FC 3.0 data plane with @alicloud/fc2, exactly as another service or `s invoke` would, so the
 * signature, the invoke path and the async queue are exercised locally before they are in
 * the cloud. By default it targets `npm start`; with --region and --account-id, the deployed
 * function.
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { parseArgs } from 'node:util';
import type { Credentials } from '../lib/core/credentials';
import { InvalidParameterError } from '../lib/core/errors';
import { createFc3Client, invokeFunction, type FcTarget } from '../lib/fc/client';
import { parseWithdrawalItem } from '../lib/withdraw/items';
import type { WithdrawalItem } from '../lib/withdraw/withdraw-item';
import { LOCAL_ACCOUNT_ID, LOCAL_DEFAULT_PORT, LOCAL_FC_KEY, LOCAL_REGION } from './local-keys';

/** The withdrawal succeeded. */
export const EXIT_SUCCESS = 0;
/** The function ran and the withdrawal failed (its result says why). */
export const EXIT_WITHDRAWAL_FAILED = 1;
/** Nothing was withdrawn because of the command line, the credentials or the connection. */
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROGRAM = 'withdraw-script-review';
const DEFAULT_FUNCTION = 'withdraw-script-review-withdraw';
/** Longer than the withdraw function's 30 s timeout, so FC's own timeout answer arrives first. */
const INVOKE_TIMEOUT_MS = 60_000;
/** FC's function-name rule: checking it here turns a typo into a usage error, not a signed 404. */
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const REGION = /^[a-z]{2,}-[a-z0-9-]+$/;
const ACCOUNT_ID = /^\d{1,32}$/;
const CREDENTIAL_VARS = 'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET';

const USAGE = `usage: ${PROGRAM} <InstanceId> <ScriptId> [--async] [--function NAME]
         [--region REGION --account-id ACCOUNT_ID] [--endpoint URL] [--callback-url URL]

Withdraws the review of an OutboundBot script by invoking the withdraw function
(default ${DEFAULT_FUNCTION}) on the FC 3.0 invoke path.

  (default)                  the local \`npm start\` server, http://127.0.0.1:$PORT (${LOCAL_DEFAULT_PORT})
  --region, --account-id     the deployed function, signed with ${CREDENTIAL_VARS}
                             (and ALIBABA_CLOUD_SECURITY_TOKEN for an STS key)
  --endpoint URL             another FC endpoint, e.g. a VPC one or a local server elsewhere
  --async                    queue the invocation (x-fc-invocation-type: Async) and return at once
  --callback-url URL         ask the function to POST the result there (its host must be allowed)

Exit status: 0 withdrawn (or accepted with --async), 1 the withdrawal failed,
2 a usage, credential or connection error.
`;

/** A problem the user can fix, reported as one line and exit code 2. */
class UsageError extends Error {}

interface Target extends FcTarget {
  endpoint: string;
  /** An `npm start` server (the local key pair), whose refusals and connection errors deserve a hint. */
  local: boolean;
}

interface Invocation {
  payload: WithdrawalItem & { CallbackUrl?: string };
  functionName: string;
  async: boolean;
  target: Target;
}

/**
 * Runs the command and returns its exit code; never throws, never prints a stack trace or a
 * credential. `env` supplies PORT and the ALIBABA_CLOUD_* credentials.
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let invocation: Invocation | 'help';
  try {
    invocation = parseCommandLine(argv, env);
  } catch (error) {
    io.stderr(`${PROGRAM}: ${oneLine(error)}\n`);
    return EXIT_USAGE;
  }
  if (invocation === 'help') {
    io.stdout(USAGE);
    return EXIT_SUCCESS;
  }
  try {
    return report(await invoke(invocation), invocation, io);
  } catch (error) {
    io.stderr(`${PROGRAM}: ${describeInvokeError(error, invocation)}\n`);
    return EXIT_USAGE;
  }
}

function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      async: { type: 'boolean' },
      function: { type: 'string' },
      region: { type: 'string' },
      'account-id': { type: 'string' },
      endpoint: { type: 'string' },
      'callback-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 2) throw new UsageError(`expected <InstanceId> <ScriptId>, got ${positionals.length} argument(s); see --help`);
  const functionName = values.function ?? DEFAULT_FUNCTION;
  if (!FUNCTION_NAME.test(functionName)) throw new UsageError(`--function ${JSON.stringify(functionName)} is not a Function Compute function name`);
  return {
    payload: { ...parseItem(positionals[0]!, positionals[1]!), ...callbackUrl(values['callback-url']) },
    functionName,
    async: values.async === true,
    target: resolveTarget(values, env),
  };
}

/** The function's own rule (lib/withdraw/items.ts), so a bad id is refused before anything is signed or sent. */
function parseItem(instanceId: string, scriptId: string): WithdrawalItem {
  try {
    return parseWithdrawalItem({ InstanceId: instanceId, ScriptId: scriptId });
  } catch (error) {
    if (error instanceof InvalidParameterError) throw new UsageError(`invalid ${error.message}`);
    throw error;
  }
}

function callbackUrl(value: string | undefined): { CallbackUrl?: string } {
  if (value === undefined) return {};
  if (!/^https?:$/.test(parseUrl(value)?.protocol ?? '')) throw new UsageError('--callback-url must be an absolute http(s) URL');
  return { CallbackUrl: value };
}

function resolveTarget(values: { region?: string; 'account-id'?: string; endpoint?: string }, env: NodeJS.ProcessEnv): Target {
  const { region, 'account-id': accountId } = values;
  const endpoint = values.endpoint === undefined ? undefined : parseEndpoint(values.endpoint);
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

/** fc2 appends `/<version>/functions/...` to the endpoint, so only an origin makes sense. */
function parseEndpoint(value: string): string {
  const url = parseUrl(value);
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new UsageError('--endpoint must be an http(s) origin such as https://<account-id>.cn-shanghai.fc.aliyuncs.com');
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

/** fc2 loads on first use (lib/fc/client.ts), so usage errors and --help answer without it. */
function invoke({ payload, functionName, async, target }: Invocation): Promise<{ headers: IncomingHttpHeaders; data: unknown }> {
  return invokeFunction(createFc3Client(target, INVOKE_TIMEOUT_MS), functionName, payload, async ? 'Async' : 'Sync');
}

/** Prints the function's answer and picks the exit code from it. */
function report(response: { headers: IncomingHttpHeaders; data: unknown }, invocation: Invocation, io: CliIo): number {
  const requestId = response.headers['x-fc-request-id'];
  if (invocation.async) {
    io.stdout(`${JSON.stringify({ Accepted: true, InvocationType: 'Async', RequestId: requestId }, null, 2)}\n`);
    io.stderr(`${PROGRAM}: accepted; the result goes to the function's log (and callback)\n`);
    return EXIT_SUCCESS;
  }
  const result = asJson(response.data);
  io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  const errorType = response.headers['x-fc-error-type'];
  if (errorType) {
    // FC answers 200 and flags it in a header when the handler throws (a retryable failure).
    io.stderr(`${PROGRAM}: the function failed (${String(errorType)}): ${oneLine(field(result, 'errorMessage'))}; request id ${String(requestId)}\n`);
    return EXIT_WITHDRAWAL_FAILED;
  }
  if (field(result, 'Success') === true) return EXIT_SUCCESS;
  io.stderr(`${PROGRAM}: withdrawal failed: ${String(field(result, 'Code'))} (HTTP ${String(field(result, 'HttpStatusCode'))}): ${oneLine(field(result, 'Message'))}\n`);
  return EXIT_WITHDRAWAL_FAILED;
}

/** FC 3.0 returns the handler's result as the body; fc2 parses it only when labelled JSON. */
function asJson(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    throw new SyntaxError('the function did not answer JSON');
  }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/**
 * fc2 reports an HTTP error as `POST <path> failed with <status>. requestid: <id>, message: …`
 * and reads only FC 2.0's `ErrorCode`, so the status comes from that message; transport
 * errors keep Node's `code`.
 */
function describeInvokeError(error: unknown, { functionName, target }: Invocation): string {
  const http = /failed with (\d{3})\. requestid: ([^,]*),/.exec(errorMessage(error));
  if (http) {
    const status = Number(http[1]);
    const requestId = http[2] && http[2] !== 'undefined' ? `; request id ${http[2]}` : '';
    if (status === 404) return `no function named '${functionName}' at ${target.endpoint} (HTTP 404 FunctionNotFound${requestId}); check --function`;
    if (status === 401 || status === 403) {
      const hint = target.local ? 'the local server accepts only its own key' : `check ${CREDENTIAL_VARS} and that the key may invoke '${functionName}'`;
      return `the call was refused (HTTP ${status}: signature or credentials): ${hint}${requestId}`;
    }
    return `the invocation failed with HTTP ${status}${requestId}`;
  }
  switch (errorCode(error)) {
    case 'ECONNREFUSED':
      return `cannot reach ${target.endpoint}: connection refused${target.local ? '; is `npm start` running?' : ''}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host of ${target.endpoint}; check --region, --account-id or --endpoint`;
    case 'ECONNRESET':
      return `the connection to ${target.endpoint} was reset before an answer`;
  }
  if (error instanceof Error && error.name.includes('RequestTimeout')) return `no answer from ${target.endpoint} within ${INVOKE_TIMEOUT_MS / 1000} s`;
  if (error instanceof SyntaxError) return `unexpected answer from ${target.endpoint}: ${oneLine(error.message)}`;
  return `the invocation failed: ${oneLine(errorMessage(error))}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Node may wrap one refused connection per address family in an AggregateError. */
function errorCode(error: unknown): string | undefined {
  const withCode = error as { code?: unknown; errors?: Array<{ code?: unknown }> };
  const code = withCode?.code ?? withCode?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

function oneLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.split('\n', 1)[0]!.trim();
}

/** True when this file is the program being run (build/cli.js, possibly through a bin symlink), not an import. */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(__filename);
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: CliIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };
  // Exit explicitly: fc2's HTTP agent keeps the connection alive, which would hold the process open.
  void run(process.argv.slice(2), process.env, io).then((code) => process.exit(code));
}
