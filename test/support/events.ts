import { readFileSync } from 'node:fs';
import path from 'node:path';

/** FC 3.0 event templates, copied into test/fixtures/events (origin in test/fixtures/README.md). */
export function referenceEvent<T = Record<string, unknown>>(name: string): T {
  const file = path.resolve(__dirname, '../fixtures/events', name);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export const INSTANCE_ID = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
export const SCRIPT_ID = 'e4e2a770-b97b-465a-80d8-06dca008c503';

/** The HTTP-trigger template with our method, body and headers put in. */
export function httpEvent(options: {
  method?: string;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  base64?: boolean;
}): Record<string, unknown> {
  const template = referenceEvent<Record<string, any>>('fc3-template-http.json');
  const raw = options.body === undefined ? '' : options.body;
  const base64 = options.base64 ?? Buffer.isBuffer(raw);
  const headers: Record<string, string> = { ...template.headers, ...options.headers };
  delete headers['Content-Type'];
  if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
  return {
    ...template,
    rawPath: '/withdraw',
    headers,
    queryParameters: options.query ?? {},
    body: base64 ? Buffer.from(raw).toString('base64') : raw.toString(),
    isBase64Encoded: base64,
    requestContext: { ...template.requestContext, http: { ...template.requestContext.http, method: options.method ?? 'POST', path: '/withdraw' } },
  };
}

/** An EventBridge CloudEvent as FC receives it (custom bus or MNS queue source). */
export function cloudEvent(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '45ef4dewdwe1-7c35-447a-bd93-fab****',
    source: 'acs.mns',
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    datacontenttype: 'application/json; charset=utf-8',
    subject: 'acs:mns:cn-shanghai:123456789098****:queues/withdrawals',
    time: '2026-11-24T10:03:44.011Z',
    aliyunaccountid: '123456789098****',
    aliyunpublishtime: '2026-11-24T10:03:44.011Z',
    aliyuneventbusname: 'default',
    aliyunregionid: 'cn-shanghai',
    aliyunpublishaddr: '42.120.***.**',
    data,
    ...extra,
  };
}

/** MNS queue as an EventBridge source: the message text sits in data.messageBody. */
export function mnsQueueEvent(messageBody: string): Record<string, unknown> {
  return cloudEvent({
    requestId: '6376F3D1****',
    messageId: 'E3C0C6****',
    messageBody,
  });
}
