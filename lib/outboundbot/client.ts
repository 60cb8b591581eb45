import type Credential from '@alicloud/credentials';
import OpenApi, { Config as OpenApiConfig, OpenApiRequest, Params } from '@alicloud/openapi-client';
import type { RuntimeOptions } from '@alicloud/tea-util';
import type { Credentials } from '../core/credentials';
import { transportFailure } from '../core/transport-error';
import { OutboundBotCallError } from './errors';
import { guardedCall } from './transport';
import { upstreamTextScrubber } from './upstream-text';

export const API_VERSION = '2019-12-26';

export type OutboundBotAction = 'WithdrawScriptReview' | 'ListScripts' | 'QueryScriptsByStatus' | 'DescribeScript';

export interface EndpointOptions {
  endpoint: string;
  protocol: 'https' | 'http';
  connectTimeoutMs: number;
}

/** The JSON body of an answer: the API's fields, whatever the action. */
export type ApiBody = Record<string, unknown>;


const paramsByAction = new Map<OutboundBotAction, Params>();

/** The OpenApi Params of an action, built once; exported so the bench's client-alone variant makes the very same call. */
export function paramsFor(action: OutboundBotAction): Params {
  let params = paramsByAction.get(action);
  if (!params) {
    params = new Params({
      action,
      version: API_VERSION,
      protocol: 'HTTPS',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    paramsByAction.set(action, params);
  }
  return params;
}

export interface OutboundBotClient {
  call(action: OutboundBotAction, query: Record<string, string>, readTimeoutMs: number): Promise<ApiBody>;
}

/**
 * The official client signs (ACS3-HMAC-SHA256) and sends; it keeps its sockets in
 * a module-level keep-alive agent, so reusing one client per credential set keeps
 * warm invocations on the same connection.
 */
export function createOutboundBotClient(credentials: Credentials, endpoint: EndpointOptions): OutboundBotClient {
  const client = new OpenApi(
    new OpenApiConfig({
      // The role's STS triple is handed over as a ready credential: the SDK's provider chain
      // (@alicloud/credentials: ECS metadata, OIDC, profile files) is never consulted, and
      // the withdraw bundle leaves it out (scripts/build.mjs).
      credential: fixedCredential(credentials),
      endpoint: endpoint.endpoint,
      protocol: endpoint.protocol,
      connectTimeout: endpoint.connectTimeoutMs,
    }),
  );
  const scrub = upstreamTextScrubber(credentials);
  return {
    async call(action, query, readTimeoutMs) {
      // autoretry stays off: retries are decided by lib/core/retry-policy.ts, against the invocation deadline.
      // Plain objects of the models' shape: the SDK only reads their fields, and the Model
      // constructors cost more than the rest of a warm call's bookkeeping.
      const runtime = { autoretry: false, readTimeout: readTimeoutMs, connectTimeout: Math.min(endpoint.connectTimeoutMs, readTimeoutMs) } as RuntimeOptions;
      const outcome = await guardedCall(readTimeoutMs, (headers) => client.callApi(paramsFor(action), { query, headers } as OpenApiRequest, runtime));
      if ('error' in outcome) throw toCallError(outcome.error, outcome.guard.statusCode, scrub);
      const body = outcome.value.body as ApiBody;
      if (typeof body.Message === 'string') body.Message = scrub(body.Message);
      return body;
    },
  };
}

function fixedCredential(credentials: Credentials): Credential {
  const model = {
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    type: credentials.securityToken ? 'sts' : 'access_key',
  };
  return { getCredential: async () => model } as unknown as Credential;
}

/**
 * Normalises what the SDK, httpx and node:http throw into one typed error; the original is its
 * `cause`. `answeredStatus` is the HTTP status seen on the wire: the SDK drops it when the body
 * is not JSON, and a 4xx page from a gateway or WAF is a refusal, not a transient fault.
 */
export function toCallError(error: unknown, answeredStatus: number | undefined, scrub: (text: string) => string): OutboundBotCallError {
  const e = error as { statusCode?: unknown; data?: Record<string, unknown> };
  if (typeof e?.statusCode === 'number' && e.data) {
    const requestId = typeof e.data.RequestId === 'string' ? e.data.RequestId : undefined;
    const message = typeof e.data.Message === 'string' ? scrub(e.data.Message) : `HTTP ${e.statusCode}`;
    const code = typeof e.data.Code === 'string' && e.data.Code ? e.data.Code : `Http${e.statusCode}`;
    return new OutboundBotCallError(code, message, e.statusCode, requestId, { cause: error });
  }
  if (error instanceof SyntaxError && answeredStatus !== undefined && answeredStatus >= 400) {
    const refused = answeredStatus < 500 && answeredStatus !== 429;
    const message = `OutboundBot answered ${answeredStatus} with a body that is not JSON (a gateway or firewall page?)`;
    return new OutboundBotCallError(refused ? 'UpstreamRefused' : 'InvalidResponse', message, answeredStatus, undefined, { cause: error });
  }
  const { code, message } = transportFailure(error, 'OutboundBot');
  return new OutboundBotCallError(code, message, undefined, undefined, { cause: error });
}
