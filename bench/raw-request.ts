import http from 'node:http';
import { canonicalQueryString, signRequest } from '../emulator/acs3';

export interface RawTarget {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/**
 * The floor: one WithdrawScriptReview signed by hand with node:crypto and sent with
 * node:http, no SDK, no validation, no logging.
 */
export function rawWithdraw(target: RawTarget, instanceId: string, scriptId: string, agent?: http.Agent): Promise<Record<string, unknown>> {
  const query = { InstanceId: instanceId, ScriptId: scriptId };
  const headers = signRequest({
    method: 'POST',
    host: target.endpoint,
    pathname: '/',
    query,
    headers: { 'x-acs-action': 'WithdrawScriptReview', 'x-acs-version': '2019-12-26', accept: 'application/json' },
    accessKeyId: target.accessKeyId,
    accessKeySecret: target.accessKeySecret,
    securityToken: target.securityToken,
  });
  const [hostname, port] = target.endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port: Number(port), method: 'POST', path: `/?${canonicalQueryString(query)}`, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        if (body.Success !== true) reject(new Error(`raw withdrawal failed: ${String(body.Code)}`));
        else resolve(body);
      });
    });
    req.on('error', reject);
    req.end();
  });
}
