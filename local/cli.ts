#!/usr/bin/env node
/**
 * `withdraw-script-review`: invokes the withdraw function (`<InstanceId> <ScriptId>`) or the
 * cleanup (`--cleanup <InstanceId> --older-than-minutes N`) through the FC 3.0 data plane with
 * @alicloud/fc2, exactly as another service or `s invoke` would, so the signature, the invoke
 * path and the async queue are exercised locally before they are in the cloud. By default it
 * targets `npm start`; with --region and --account-id, the deployed function. `sign` prints a
 * Standard Webhooks-signed curl line for the HTTP trigger.
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import packageJson from '../package.json';
import type { IncomingHttpHeaders } from 'node:http';
import { createFc3Client, invokeFunction } from '../lib/fc/client';
import { CREDENTIAL_VARS, DEFAULT_FAILURE_QUEUE, DEFAULT_FUNCTION, DEFAULT_REDRIVE_MAX, INVOKE_TIMEOUT_MS, parseCommandLine, type Command, type Mode } from './cli-args';
import { describeInvokeError, oneLine } from './invoke-error';
import { LOCAL_DEFAULT_PORT } from './local-keys';
import { signedCurl, validityNote } from './signed-curl';

/** The withdrawal (or cleanup run) succeeded. */
export const EXIT_SUCCESS = 0;
/** The function ran and the withdrawal (or cleanup) failed (its result says why). */
export const EXIT_WITHDRAWAL_FAILED = 1;
/** Nothing was done because of the command line, the credentials or the connection. */
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

type Invocation = Extract<Command, { kind: 'invoke' }>;

const PROGRAM = 'withdraw-script-review';
/** Bundled at build time: the version of the build, wherever it runs from. */
const PACKAGE = packageJson as { version: string };

const USAGE = `usage: ${PROGRAM} <InstanceId> <ScriptId> [--async] [--callback-url URL] [target]
       ${PROGRAM} --cleanup <InstanceId> --older-than-minutes N [--dry-run] [--max-withdrawals N] [--async] [target]
       ${PROGRAM} sign [--url URL] '<JSON body>'
       ${PROGRAM} send --event http|async <InstanceId> <ScriptId> [--callback-url URL] [target]
       ${PROGRAM} send --event eventbridge|mns-topic <InstanceId> <ScriptId> [target]
       ${PROGRAM} send --event timer <InstanceId> --older-than-minutes N [--dry-run] [--max-withdrawals N] [target]
       ${PROGRAM} send --event http|eventbridge|mns-topic|timer|async --file PATH [target]
       ${PROGRAM} redrive [--queue NAME] [--dry-run] [--max N] [--mns-endpoint URL] [target]
       ${PROGRAM} --version

Withdraws the review of an OutboundBot script by invoking the withdraw function
(default ${DEFAULT_FUNCTION.withdraw}), or runs the cleanup function (default
${DEFAULT_FUNCTION.cleanup}) once, on the FC 3.0 invoke path.

target:
  (default)                  the local \`npm start\` server, http://127.0.0.1:$PORT (${LOCAL_DEFAULT_PORT})
  --region, --account-id     the deployed function, signed with ${CREDENTIAL_VARS}
                             (and ALIBABA_CLOUD_SECURITY_TOKEN for an STS key)
  --endpoint URL             another FC endpoint, e.g. a VPC one or a local server elsewhere
  --function NAME            another function name
  --async                    queue the invocation (x-fc-invocation-type: Async) and return at once
  --callback-url URL         ask the withdraw function to POST the result there (its host must be allowed)

cleanup:
  --older-than-minutes N     withdraw reviews whose script was last updated more than N minutes ago
  --dry-run                  list what would be withdrawn; withdraw nothing
  --max-withdrawals N        at most N withdrawals this run, oldest first

sign: prints a curl line for the HTTP trigger, signed with the first secret in WEBHOOK_SECRET
  (the timestamp makes it valid for 5 minutes). --url defaults to http://127.0.0.1:$PORT/;
  for the deployed function pass the trigger URL that \`npx s withdraw info\` shows.

send: invokes the function with the event that trigger would hand it in FC 3.0, to try a
  trigger locally: http (an HTTP-trigger event, signed with the first secret in WEBHOOK_SECRET
  when it is set), eventbridge (a CloudEvent from the MNS request queue, in an array as the
  mns-requests trigger delivers it), mns-topic (an MNS topic message, JSON format), timer (the
  cleanup function's timer event, its payload from the cleanup options), async (the item,
  invoked with x-fc-invocation-type: Async). --file PATH sends the event in that file instead.
  eventbridge, mns-topic and timer events carry no CallbackUrl: their results go to the
  function's CALLBACK_URL (under \`npm start\`, its callback receiver).

redrive: takes each message from the failure queue (default ${DEFAULT_FAILURE_QUEUE}, s.yaml's
  failureQueueName) with the MNS SDK, shows it, invokes its function again with the original
  payload, synchronously, and deletes the message only when the answer is final: redriven
  (succeeded) or done (answered final, e.g. the script is no longer under review). A message that
  failed again, got no answer or cannot be read is left, and is visible again when the run ends.
  --max N takes at most N messages (default ${DEFAULT_REDRIVE_MAX}); --dry-run peeks at up to 16 and
  changes nothing. The queue is read at https://<account-id>.mns.<region>.aliyuncs.com with the
  same keys (--mns-endpoint URL for another), or at \`npm start\`'s, http://127.0.0.1:$MNS_PORT
  ($PORT + 3 unless set).

Exit status: 0 done (or accepted with --async or --event async; for redrive: nothing left), 1 the
function ran and the withdrawal or cleanup failed (for redrive: a message was left in the queue),
2 a usage, credential or connection error.
`;

/**
 * Runs the command and returns its exit code; never throws, never prints a stack trace or a
 * credential. `env` supplies PORT, WEBHOOK_SECRET and the ALIBABA_CLOUD_* credentials.
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv, env);
  } catch (error) {
    io.stderr(`${PROGRAM}: ${oneLine(error)}\n`);
    return EXIT_USAGE;
  }
  if (command.kind === 'help') {
    io.stdout(USAGE);
    return EXIT_SUCCESS;
  }
  if (command.kind === 'version') {
    io.stdout(`${PROGRAM} ${PACKAGE.version}\n`);
    return EXIT_SUCCESS;
  }
  if (command.kind === 'sign') return printSigned(command, io);
  if (command.kind === 'redrive') return redriveQueue(command, io);
  try {
    return report(await invoke(command), command, io);
  } catch (error) {
    io.stderr(`${PROGRAM}: ${describeInvokeError(error, { ...command, timeoutMs: INVOKE_TIMEOUT_MS[command.mode] })}\n`);
    return EXIT_USAGE;
  }
}

/** 0 nothing left, 1 a message left in the queue, 2 the queue could not be read (refused, unreachable). */
async function redriveQueue(command: Extract<Command, { kind: 'redrive' }>, io: CliIo): Promise<number> {
  const { runRedrive } = await import('./redrive/command');
  const verdict = await runRedrive(command, (line) => io.stdout(`${line}\n`), (line) => io.stderr(`${PROGRAM}: ${line}\n`));
  return verdict === 'clean' ? EXIT_SUCCESS : verdict === 'left' ? EXIT_WITHDRAWAL_FAILED : EXIT_USAGE;
}

/** The curl line alone on stdout, so it can be piped to a shell; how long it lasts on stderr. */
function printSigned({ url, body, secret }: Extract<Command, { kind: 'sign' }>, io: CliIo): number {
  const { line, expiresAtMs } = signedCurl(url, body, secret, Date.now());
  io.stdout(`${line}\n`);
  io.stderr(`${PROGRAM}: ${validityNote(expiresAtMs)}\n`);
  return EXIT_SUCCESS;
}

/** fc2 loads on first use (lib/fc/client.ts), so usage errors and --help answer without it. */
function invoke({ mode, payload, functionName, async, target }: Invocation): Promise<{ headers: IncomingHttpHeaders; data: unknown }> {
  return invokeFunction(createFc3Client(target, INVOKE_TIMEOUT_MS[mode]), functionName, payload, async ? 'Async' : 'Sync');
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
  const answer = invocation.trigger === 'http' ? httpBody(result) : result;
  if (field(answer, 'Success') === true) return EXIT_SUCCESS;
  io.stderr(`${PROGRAM}: ${failure(invocation.mode, answer)}\n`);
  return EXIT_WITHDRAWAL_FAILED;
}

/** An HTTP-trigger event is answered with the response FC would send (`{statusCode, headers, body}`): the result is its JSON body. */
function httpBody(response: unknown): unknown {
  const body = field(response, 'body');
  if (typeof body !== 'string') return response;
  try {
    return JSON.parse(field(response, 'isBase64Encoded') === true ? Buffer.from(body, 'base64').toString('utf8') : body);
  } catch {
    return response;
  }
}

/** A refusal carries a Code; a cleanup run that went ahead but not cleanly only carries counts. */
function failure(mode: Mode, result: unknown): string {
  const what = mode === 'cleanup' ? 'cleanup' : 'withdrawal';
  const code = field(result, 'Code');
  if (code !== undefined) {
    const status = field(result, 'HttpStatusCode');
    return `${what} failed: ${String(code)}${status === undefined ? '' : ` (HTTP ${String(status)})`}: ${oneLine(field(result, 'Message'))}`;
  }
  return `${what} finished with problems: ${String(field(result, 'Failed'))} failed, truncated: ${String(field(result, 'Truncated'))}`;
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

/** True when this file is the program being run (build/cli.js, possibly through a bin symlink), not an import. */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(__filename);
  } catch {
    return false;
  }
}

/**
 * Exits once stdout and stderr have handed over everything written to them. Writes to a pipe
 * are asynchronous: exiting right after them cut a piped answer at 64 KiB. A stream's write
 * callbacks run in order, so an empty write's callback means all before it is out.
 */
export function exitWhenFlushed(code: number, streams: NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  let pending = streams.length;
  for (const stream of streams) stream.write('', () => --pending === 0 && process.exit(code));
}

if (isMain()) {
  const io: CliIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };
  // Exit explicitly: fc2's HTTP agent keeps the connection alive, which would hold the process open.
  void run(process.argv.slice(2), process.env, io).then((code) => exitWhenFlushed(code));
}
