/**
 * The events FC 3.0 hands a function for each trigger, built for `withdraw-script-review send`
 * so a trigger can be tried locally without the cloud service that fires it. Each shape follows
 * the references the tests hold it to: the HTTP trigger and MNS topic templates of devsapp/fc3
 * (test/fixtures/events/), the EventBridge CloudEvent of an MNS queue source as s.yaml's
 * `mns-requests` trigger delivers it in event-streaming mode (an array, one message per batch;
 * test/support/events.ts), and FC's documented timer event `{triggerTime, triggerName, payload}`.
 *
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { signWebhook } from '../lib/webhooks/verify';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './local-keys';

/** The triggers `send --event` can imitate; `async` is a direct invocation queued with x-fc-invocation-type: Async. */
export const EVENT_KINDS = ['http', 'eventbridge', 'mns-topic', 'timer', 'async'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Names as s.yaml gives them, so a local event reads like the deployed trigger's. */
const REQUEST_QUEUE = 'withdraw-script-review-requests';
const REQUEST_TOPIC = 'withdraw-script-review-requests';
const TIMER_TRIGGER = 'nightly';

/** A hex id in MNS's style (32 upper-case hex digits). */
const mnsId = () => randomBytes(16).toString('hex').toUpperCase();

/**
 * The FC 3.0 HTTP-trigger event of `POST /` with a JSON body, as curl would send it, signed
 * with `secret` (Standard Webhooks, the function's own signer) when one is given: what the
 * front end makes of the signed curl line, built here so it can be sent on the invoke path.
 */
export function httpTriggerEvent(body: string, secret: string | undefined, nowMs: number, domainName = `${LOCAL_ACCOUNT_ID}.${LOCAL_REGION}.fc.aliyuncs.com`): Record<string, unknown> {
  const headers: Record<string, string> = { host: domainName, 'user-agent': 'withdraw-script-review send', accept: '*/*', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  if (secret !== undefined) {
    const id = `msg_${randomUUID().replace(/-/g, '')}`;
    const timestamp = Math.floor(nowMs / 1000);
    Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, id, timestamp, body) });
  }
  return {
    version: 'v1',
    rawPath: '/',
    headers,
    queryParameters: {},
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      triggerId: randomUUID(),
      domainName,
      domainPrefix: LOCAL_ACCOUNT_ID,
      requestId: randomUUID(),
      time: new Date(nowMs).toISOString(),
      timeEpoch: String(nowMs),
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] },
    },
  };
}

/**
 * What the `mns-requests` EventBridge trigger hands the function for one queue message: an
 * array of CloudEvents (event streaming, a batch of one), the message body in
 * `data.messageBody` as sent (IsBase64Decode: false). Fresh ids each time: a new message.
 */
export function eventBridgeEvent(messageBody: string, nowMs: number): Record<string, unknown>[] {
  const time = new Date(nowMs).toISOString();
  return [
    {
      id: randomUUID(),
      source: 'acs.mns',
      specversion: '1.0',
      type: 'mns:Queue:SendMessage',
      datacontenttype: 'application/json; charset=utf-8',
      subject: `acs:mns:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:queues/${REQUEST_QUEUE}`,
      time,
      aliyunaccountid: LOCAL_ACCOUNT_ID,
      aliyunpublishtime: time,
      aliyuneventbusname: 'default',
      aliyunregionid: LOCAL_REGION,
      aliyunpublishaddr: '127.0.0.1',
      data: { requestId: mnsId().slice(0, 24), messageId: mnsId(), messageBody },
    },
  ];
}

/** An MNS topic trigger's event in JSON format (the fc3 template without MessageAttributes): the message text in `Message`. */
export function mnsTopicEvent(message: string, nowMs: number): Record<string, unknown> {
  return {
    TopicOwner: LOCAL_ACCOUNT_ID,
    Message: message,
    Subscriber: LOCAL_ACCOUNT_ID,
    PublishTime: nowMs,
    SubscriptionName: 'withdraw-script-review-withdraw',
    MessageMD5: createHash('md5').update(message).digest('hex').toUpperCase(),
    TopicName: REQUEST_TOPIC,
    MessageId: mnsId(),
  };
}

/** The timer trigger's event: the trigger's message (s.yaml's `payload`, JSON text) in `payload`. */
export function timerEvent(payload: string, nowMs: number): Record<string, unknown> {
  return { triggerTime: new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z'), triggerName: TIMER_TRIGGER, payload };
}
