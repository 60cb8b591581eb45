/**
 * What the emulator decides to do with a request, and the two JSON body shapes the gateway
 * and OutboundBot use: success (`Code: OK`) and error (`HostId`, `Success: false`).
 *
 * @module
 */

const HOST_ID = 'outboundbot.cn-shanghai.aliyuncs.com';

export type Body = Record<string, unknown>;

/** Request parameters: the query string plus any form body, values as sent. */
export type Params = Record<string, string>;

export interface JsonAnswer {
  kind: 'json';
  status: number;
  body: Body;
  retryAfterSeconds?: number;
  /** Extra delay for this answer only (the `delay` fault), on top of the latency. */
  delayMs?: number;
  /** How the body goes out when not all at once (the `drip` and `stall` faults). */
  pace?: { kind: 'drip'; intervalMs: number } | { kind: 'stall' };
}

/** What to do with a request once it has been judged. */
export type Answer = JsonAnswer | { kind: 'html'; status?: number } | { kind: 'reset' } | { kind: 'hang' };

/** One API action over the script state. */
export type ActionHandler = (params: Params, requestId: string) => Answer;

/** OutboundBot's success envelope around the action's own fields. */
export function okAnswer(requestId: string, fields: Body): JsonAnswer {
  return { kind: 'json', status: 200, body: { HttpStatusCode: 200, Code: 'OK', Message: 'Success', RequestId: requestId, Success: true, ...fields } };
}

export function errorAnswer(status: number, code: string, message: string, requestId: string): JsonAnswer {
  return { kind: 'json', status, body: { RequestId: requestId, HostId: HOST_ID, Code: code, Message: message, HttpStatusCode: status, Success: false } };
}
