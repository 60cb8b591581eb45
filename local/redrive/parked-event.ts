/**
 * What a message in the failure queue is, read from its body. Two producers park messages there
 * (s.yaml): FC, for an async invocation of either function whose retries are spent, with its
 * destination message `{timestamp, requestContext: {requestId, functionArn, condition,
 * approximateInvokeCount}, requestPayload, responseContext, responsePayload}`
 * (local/fc-destination.ts); and the EventBridge trigger's dead-letter queue, for an event it
 * could not deliver, taken here to be that CloudEvent (or an array of them) as the trigger would
 * have delivered it. A body may also come Base64-encoded. Anything else is not understood, and
 * a message not understood is never redriven, so never deleted.
 *
 * @module
 */
import { isRecord } from '../../lib/core/records';
import type { FcTarget } from '../../lib/fc/client';
import { DEFAULT_FUNCTION, type Mode } from '../cli-args';

export interface ParkedEvent {
  /** Who parked it. */
  source: 'fc-destination' | 'eventbridge';
  /** The function to invoke again: the one FC names, or the withdraw function for an EventBridge event. */
  functionName: string;
  /** FC's request id of the failed invocation, or the CloudEvent's id. */
  requestId: string;
  /** Why it was parked: FC's condition and attempts, or that EventBridge gave up. */
  why: string;
  /** The item(s) or run it was about, e.g. `InstanceId … ScriptId …`, when readable. */
  subject: string;
  /** Which of the two functions it names: the cleanup's runs take longer, and answer otherwise. */
  mode: Mode;
  /**
   * What the function is invoked with. The withdraw function takes FC's destination message
   * itself: it runs the original request under the original invocation's key (`req:<requestId>`),
   * so what that invocation settled is answered from its delivery record, not withdrawn again.
   * The cleanup gets the event it failed on, a timer's included (a rerun lists only what is
   * still in review); an EventBridge event goes as the array the trigger delivers, keyed by its
   * MNS message id as before.
   */
  payload: unknown;
}

/** Why a body could not be read as a parked event. */
export type Unreadable = { unreadable: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_ERROR_CHARS = 200;

/**
 * The parked event in `body`, for redrive against `target`: FC's message must name one of the two
 * functions in the target's own account and region, so a message parked elsewhere (or made up
 * to look so) is never run with the operator's key against these functions.
 */
export function readParkedEvent(body: string, target: Pick<FcTarget, 'accountId' | 'region'>): ParkedEvent | Unreadable {
  const value = jsonOf(body);
  if (value === undefined) return { unreadable: 'the body is not JSON (nor Base64 of JSON)' };
  if (isRecord(value) && isRecord(value.requestContext) && 'requestPayload' in value) return destinationEvent(value, value.requestContext, target);
  const events = Array.isArray(value) ? value : [value];
  if (events.length > 0 && events.every(isCloudEvent)) return eventBridgeEvent(events as Array<Record<string, unknown>>);
  return { unreadable: 'neither an FC destination message nor a CloudEvent' };
}

function jsonOf(body: string): unknown {
  for (const text of [body, BASE64.test(body.trim()) ? Buffer.from(body.trim(), 'base64').toString('utf8') : undefined]) {
    if (text === undefined) continue;
    try {
      return JSON.parse(text);
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

/** `acs:fc:<region>:<account>:functions/<name>`, the name one of ours and the account and region the target's. */
function ourFunction(functionArn: unknown, target: Pick<FcTarget, 'accountId' | 'region'>): { mode: Mode; name: string } | Unreadable {
  const arn = typeof functionArn === 'string' ? /^acs:fc:([\w-]+):(\d+):functions\/([^/:]+)$/.exec(functionArn) : null;
  if (!arn) return { unreadable: `requestContext.functionArn ${JSON.stringify(functionArn)} names no function` };
  const [, region, accountId, name] = arn;
  if (region !== target.region || accountId !== target.accountId) return { unreadable: `${name} is in ${region} of account ${accountId}, not in ${target.region} of ${target.accountId}` };
  const mode = (Object.keys(DEFAULT_FUNCTION) as Mode[]).find((m) => DEFAULT_FUNCTION[m] === name);
  return mode ? { mode, name: name! } : { unreadable: `${name} is neither ${DEFAULT_FUNCTION.withdraw} nor ${DEFAULT_FUNCTION.cleanup}` };
}

function destinationEvent(record: Record<string, unknown>, context: Record<string, unknown>, target: Pick<FcTarget, 'accountId' | 'region'>): ParkedEvent | Unreadable {
  const { requestId, functionArn, condition, approximateInvokeCount } = context;
  if (typeof requestId !== 'string' || requestId === '') return { unreadable: 'requestContext.requestId is missing' };
  const fn = ourFunction(functionArn, target);
  if ('unreadable' in fn) return fn;
  const request = typeof record.requestPayload === 'string' ? jsonOf(record.requestPayload) : record.requestPayload;
  if (!isRecord(request)) return { unreadable: 'requestPayload is not a JSON object' };
  const error = errorOf(record.responsePayload);
  return {
    source: 'fc-destination',
    functionName: fn.name,
    requestId,
    why: `${String(condition ?? 'failed')} after ${String(approximateInvokeCount ?? '?')} attempt(s)${error ? `: ${error}` : ''}`,
    subject: fn.mode === 'cleanup' ? cleanupSubject(request) : itemsSubject(request),
    mode: fn.mode,
    payload: fn.mode === 'cleanup' ? request : record,
  };
}

/** A cleanup run's payload, given directly or in a timer's `payload` text. */
function cleanupSubject(event: Record<string, unknown>): string {
  const run = typeof event.payload === 'string' ? jsonOf(event.payload) : event;
  if (!isRecord(run)) return 'cleanup (unreadable payload)';
  const timer = typeof event.triggerName === 'string' ? ` (timer ${event.triggerName})` : '';
  return `cleanup of ${String(run.InstanceId)}, reviews older than ${String(run.OlderThanMinutes)} min${timer}`;
}

function eventBridgeEvent(events: Array<Record<string, unknown>>): ParkedEvent {
  return {
    source: 'eventbridge',
    functionName: DEFAULT_FUNCTION.withdraw,
    requestId: events.map((event) => String(event.id)).join(', '),
    why: 'EventBridge could not deliver it (dead letter)',
    subject: events.map((event) => itemsSubject(cloudEventItem(event))).join('; '),
    mode: 'withdraw',
    payload: events,
  };
}

function isCloudEvent(value: unknown): boolean {
  return isRecord(value) && typeof value.specversion === 'string' && 'data' in value;
}

/** The item a CloudEvent carries: `data`, JSON text in `data`, or a message body in `data.messageBody`. */
function cloudEventItem(event: Record<string, unknown>): unknown {
  const data = typeof event.data === 'string' ? jsonOf(event.data) : event.data;
  return isRecord(data) && typeof data.messageBody === 'string' ? jsonOf(data.messageBody) : data;
}

function itemsSubject(request: unknown): string {
  if (!isRecord(request)) return '(unreadable item)';
  if (Array.isArray(request.Items)) return `${request.Items.length} item(s): ${request.Items.map(itemsSubject).join(', ')}`;
  return `InstanceId ${String(request.InstanceId)} ScriptId ${String(request.ScriptId)}`;
}

/** FC's error answer (`{errorMessage, errorType}`, as text or object), cut short. */
function errorOf(responsePayload: unknown): string | undefined {
  const answer = typeof responsePayload === 'string' ? jsonOf(responsePayload) : responsePayload;
  if (!isRecord(answer) || typeof answer.errorMessage !== 'string') return undefined;
  const text = answer.errorMessage.split('\n', 1)[0]!;
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
