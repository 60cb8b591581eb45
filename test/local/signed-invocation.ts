// An invocation on the FC 3.0 invoke path, signed by @alicloud/fc2's own signing function with
// fc2's headers, sent with fetch so that the status, headers and body of a refusal can be read
// (fc2 keeps only its message).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { LOCAL_ACCOUNT_ID } from '../../local/local-keys';

export type Key = { accessKeyId: string; accessKeySecret: string };

const FC = createRequire(import.meta.url)('@alicloud/fc2') as {
  getSignature(id: string, secret: string, method: string, path: string, headers: Record<string, string>, queries: null): string;
};

export interface SignedInvocationOptions {
  key: Key;
  async?: boolean;
  /** Sent as `x-fc-async-task-id`, under the signature. */
  taskId?: string;
  /** Changes the headers after they are signed. */
  tamper?: (headers: Record<string, string>) => void;
}

export async function signedInvocation(url: string, name: string, body: string, options: SignedInvocationOptions) {
  const { key } = options;
  const invokePath = `/2023-03-30/functions/${encodeURIComponent(name)}/invocations`;
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    'content-type': 'application/octet-stream',
    'content-md5': Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64'),
    'x-fc-account-id': LOCAL_ACCOUNT_ID,
    'x-fc-invocation-type': options.async ? 'Async' : 'Sync',
    ...(options.taskId !== undefined ? { 'x-fc-async-task-id': options.taskId } : {}),
  };
  headers.authorization = FC.getSignature(key.accessKeyId, key.accessKeySecret, 'POST', invokePath, headers, null);
  options.tamper?.(headers);
  const response = await fetch(`${url}${invokePath}`, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}
