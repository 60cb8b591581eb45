import type { Credentials } from '../core/credentials';

/** The FC 3.0 data-plane API; fc2 hard-codes 2016-08-15 (FC 2.0), whose paths FC 3.0 does not serve. */
const FC_API_VERSION = '2023-03-30';

/** Which FC account and endpoint to invoke, and as whom. */
export interface FcTarget {
  accountId: string;
  region: string;
  /** `http(s)://host[:port]`; undefined = fc2's `https://{accountId}.{region}.fc.aliyuncs.com`. */
  endpoint: string | undefined;
  credentials: Credentials;
}

/** The slice of `@alicloud/fc2`'s client this project uses (the package ships no types). */
export interface Fc2Client {
  version: string;
  post(path: string, body: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; data: unknown }>;
}

type Fc2Constructor = new (
  accountId: string,
  config: { accessKeyID: string; accessKeySecret: string; securityToken?: string; region: string; endpoint?: string; secure: boolean; timeout: number },
) => Fc2Client;

/**
 * An fc2 client addressed at the FC 3.0 data plane. fc2 fixes its timeout at construction,
 * so callers make one per timeout; that is cheap, sockets live in Node's global agent.
 *
 * `require` (not `import`): esbuild keeps it lazy, so fc2 and what it drags in (ali-oss,
 * axios…) load only when something is actually invoked.
 */
export function createFc3Client(target: FcTarget, timeoutMs: number): Fc2Client {
  const FC = require('@alicloud/fc2') as Fc2Constructor;
  const client = new FC(target.accountId, {
    accessKeyID: target.credentials.accessKeyId,
    accessKeySecret: target.credentials.accessKeySecret,
    securityToken: target.credentials.securityToken,
    region: target.region,
    endpoint: target.endpoint,
    secure: true,
    timeout: timeoutMs,
  });
  client.version = FC_API_VERSION;
  return client;
}

/** `POST /2023-03-30/functions/{name}/invocations`, sync or async; `headers` adds e.g. `x-fc-async-task-id` (signed like every `x-fc-*`). */
export function invokeFunction(client: Fc2Client, functionName: string, payload: unknown, invocationType: 'Sync' | 'Async', headers: Record<string, string> = {}) {
  return client.post(`/functions/${encodeURIComponent(functionName)}/invocations`, JSON.stringify(payload), { ...headers, 'x-fc-invocation-type': invocationType });
}
