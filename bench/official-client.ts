// The official client alone, used as the withdraw function uses it (lib/outboundbot/client.ts):
// @alicloud/openapi-client's callApi with the very Params of paramsFor, one client reused, the
// role's ready credential, plain runtime and request objects. The warm and cold baselines share it.
import OpenApi, { Config, type OpenApiRequest } from '@alicloud/openapi-client';
import type { RuntimeOptions } from '@alicloud/tea-util';
import { paramsFor } from '../lib/outboundbot/client';
import type { RawTarget } from './raw-request';

export interface OfficialClientOptions {
  readTimeoutMs: number;
  connectTimeoutMs: number;
}

/** A withdrawal by the official client alone; rejects unless the answer says Success. */
export function officialClientWithdrawal(role: Required<RawTarget>, options: OfficialClientOptions): (instanceId: string, scriptId: string) => Promise<void> {
  const model = { accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken, type: 'sts' };
  const client = new OpenApi(
    new Config({
      credential: { getCredential: async () => model } as never,
      endpoint: role.endpoint,
      protocol: 'http',
      connectTimeout: options.connectTimeoutMs,
    }),
  );
  const params = paramsFor('WithdrawScriptReview');
  return async (InstanceId, ScriptId) => {
    const runtime = { autoretry: false, readTimeout: options.readTimeoutMs, connectTimeout: options.connectTimeoutMs } as RuntimeOptions;
    const query: Record<string, string> = { InstanceId, ScriptId };
    const response = await client.callApi(params, { query } as OpenApiRequest, runtime);
    const body = response.body as { Success?: boolean };
    if (body.Success !== true) throw new Error(`official client: withdrawal failed: ${JSON.stringify(body).slice(0, 300)}`);
  };
}
