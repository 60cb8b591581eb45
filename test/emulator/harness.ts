/**
 * Shared set-up for the emulator's own tests: a fresh emulator per test with one known key
 * and one instance, the official client pointed at it, and raw requests signed with our own
 * signer. `emulator` and `nowMs` are exported `let`s, i.e. live bindings: importers see the
 * current test's values.
 */
import http from 'node:http';
import OpenApi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import { afterEach, beforeEach, expect } from 'vitest';
import { canonicalQueryString, signRequest } from '../../emulator/acs3';
import { API_VERSION, startEmulator, type EmulatorCredential, type EmulatorScript, type OutboundBotEmulator } from '../../emulator/outboundbot';

export const INSTANCE = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
export const UNDER_REVIEW = 'e4e2a770-b97b-465a-80d8-06dca008c503';
export const PUBLISHED_UNDER_REVIEW = '9b1c3f52-6d4e-4a8f-b2c7-1e5d9a0f3c21';
export const DRAFTED = '1a6f9c3e-8b2d-4f7a-9e1c-5d3b7a2f8c46';
export const UUID_UPPER = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

export const KEY: EmulatorCredential = { accessKeyId: 'LTAI5tTestKey', accessKeySecret: 'test-secret' };

export function scriptFixture(ScriptId: string, Status: string): EmulatorScript {
  return { ScriptId, ScriptName: `script ${ScriptId.slice(0, 4)}`, Status, UpdateTime: 1_578_881_227_000, Industry: '金融', Scene: '电销', IsDrafted: false };
}

export let emulator: OutboundBotEmulator;
export let nowMs: number;

/** Call once at a test file's top level. */
export function useEmulator(): void {
  beforeEach(async () => {
    nowMs = Date.now();
    emulator = await startEmulator({ credentials: [KEY], now: () => nowMs });
    emulator.addInstance(INSTANCE, [
      scriptFixture(UNDER_REVIEW, 'EXAMINE_IN_PROGRESS'),
      scriptFixture(PUBLISHED_UNDER_REVIEW, 'PUBLISHED_AND_EXAMINE_IN_PROGRESS'),
      scriptFixture(DRAFTED, 'DRAFTED'),
    ]);
  });

  afterEach(async () => {
    await emulator.close();
  });
}

// ---------- the official client ----------

export function officialClient(credential: EmulatorCredential, endpoint: string = emulator.endpoint): OpenApi {
  return new OpenApi(
    new Config({
      accessKeyId: credential.accessKeyId,
      accessKeySecret: credential.accessKeySecret,
      securityToken: credential.securityToken,
      endpoint,
      protocol: 'http',
    }),
  );
}

/** The Params every OutboundBot action shares in the SDK; only `action` differs. */
export const apiParams = (action = 'WithdrawScriptReview'): Params =>
  new Params({ action, version: API_VERSION, protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });

export function callApi(client: OpenApi, query: Record<string, string>, runtime: RuntimeOptions = new RuntimeOptions({})) {
  return client.callApi(apiParams(), new OpenApiRequest({ query }), runtime);
}

export interface ClientError {
  code?: string;
  message: string;
  data?: Record<string, unknown>;
}

export async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    return error as ClientError;
  }
  throw new Error('expected the call to fail');
}

// ---------- raw HTTP with our own signer ----------

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface SignOptions {
  action?: string;
  query: Record<string, string>;
  credential?: EmulatorCredential;
  securityToken?: string;
  dateMs?: number;
  form?: Record<string, string>;
  method?: string;
}

export function signed(options: SignOptions): RawRequest {
  const credential = options.credential ?? KEY;
  const method = options.method ?? 'POST';
  const body = options.form && new URLSearchParams(options.form).toString();
  const headers = signRequest({
    method,
    host: emulator.endpoint,
    pathname: '/',
    query: options.query,
    headers: {
      'x-acs-action': options.action ?? 'WithdrawScriptReview',
      'x-acs-version': API_VERSION,
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    body,
    accessKeyId: credential.accessKeyId,
    accessKeySecret: credential.accessKeySecret,
    securityToken: options.securityToken ?? credential.securityToken,
    now: options.dateMs ?? nowMs,
  });
  return { method, path: `/?${canonicalQueryString(options.query)}`, headers, body };
}

export function send(request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: emulator.port, method: request.method, path: request.path, headers: request.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

export async function sendJson(request: RawRequest): Promise<{ status: number; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }> {
  const res = await send(request);
  expect(res.headers['content-type']).toBe('application/json;charset=utf-8');
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown>, headers: res.headers };
}

export async function expectRefused(request: RawRequest, status: number, code: string): Promise<void> {
  const { status: actual, body } = await sendJson(request);
  expect({ status: actual, code: body['Code'] }).toEqual({ status, code });
  expect(body).toMatchObject({ HttpStatusCode: status, Success: false, HostId: expect.any(String), Message: expect.any(String) });
  expect(body['RequestId']).toMatch(UUID_UPPER);
}

export const withdrawQuery = (ScriptId = UNDER_REVIEW) => ({ InstanceId: INSTANCE, ScriptId });

export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
