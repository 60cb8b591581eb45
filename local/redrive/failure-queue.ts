/**
 * The failure queue as the redrive reads it, through the official MNS SDK (`@alicloud/mns`),
 * loaded on first use so that no other command pays for it. The SDK signs each request with
 * MNS's own scheme and reports MNS errors as thrown `MNS<Code>Error`s; an answer that is not
 * MNS's XML comes back unthrown, so every status is checked here.
 *
 * @module
 */
import type { Credentials } from '../../lib/core/credentials';
import { oneLine } from '../invoke-error';

/** Where the queue is and who reads it. */
export interface QueueTarget {
  accountId: string;
  region: string;
  /** `http(s)://host[:port]`; undefined = `https://<accountId>.mns.<region>.aliyuncs.com`. */
  endpoint: string | undefined;
  credentials: Credentials;
}

/** A message as the queue gave it; `receiptHandle` only when received (not peeked). */
export interface QueueMessage {
  messageId: string;
  body: string;
  enqueueTimeMs: number;
  dequeueCount: number;
  receiptHandle?: string;
}

export interface FailureQueue {
  readonly name: string;
  /** One message, now hidden from other readers for the queue's visibility timeout; undefined when none is visible. */
  receive(): Promise<QueueMessage | undefined>;
  /** Up to 16 visible messages, unchanged: nothing is hidden, counted or deleted. */
  peek(count: number): Promise<QueueMessage[]>;
  /** Hidden for `seconds` from now; the new receipt handle (the old one stops working). */
  hide(receiptHandle: string, seconds: number): Promise<string>;
  delete(receiptHandle: string): Promise<void>;
}

/** MNS refused a request, or answered something that is not MNS's. `code` is MNS's error Code when it gave one. */
export class QueueError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QueueError';
  }
}

/** MNS's batch limit, for peek. */
export const MAX_PEEK = 16;
/** Longer than MNS's 30 s long poll, which redrive does not use, and short enough to report a dead endpoint. */
const READ_TIMEOUT_MS = 35_000;
const CONNECT_TIMEOUT_MS = 10_000;

type SdkMessage = { MessageId: string; MessageBody: string; EnqueueTime: string; DequeueCount: string; ReceiptHandle?: string };
type SdkAnswer<T> = { code: number; body: T | undefined };

/** The slice of `@alicloud/mns`'s Client this uses (the package ships no types). */
interface MnsSdkClient {
  receiveMessage(queue: string, waitSeconds?: number): Promise<SdkAnswer<SdkMessage>>;
  batchPeekMessage(queue: string, count: number): Promise<SdkAnswer<SdkMessage[]>>;
  changeMessageVisibility(queue: string, handle: string, seconds: number): Promise<SdkAnswer<{ ReceiptHandle: string }>>;
  deleteMessage(queue: string, handle: string): Promise<SdkAnswer<unknown>>;
}

type MnsSdkConstructor = new (
  accountId: string,
  options: { accessKeyId: string; accessKeySecret: string; securityToken?: string; region: string; endpoint?: string; secure: boolean; readTimeout: number; connectTimeout: number },
) => MnsSdkClient;

export function openFailureQueue(target: QueueTarget, name: string): FailureQueue {
  // `require`, not `import`: esbuild keeps it lazy, so only `redrive` loads the SDK and its XML parser.
  const Client = require('@alicloud/mns') as MnsSdkConstructor;
  const sdk = new Client(target.accountId, {
    accessKeyId: target.credentials.accessKeyId,
    accessKeySecret: target.credentials.accessKeySecret,
    securityToken: target.credentials.securityToken,
    region: target.region,
    endpoint: target.endpoint,
    secure: true,
    readTimeout: READ_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  return {
    name,
    receive: async () => {
      const answer = await call('ReceiveMessage', () => sdk.receiveMessage(name), true);
      return answer === undefined ? undefined : message(expectBody(answer, 'ReceiveMessage'));
    },
    peek: async (count) => {
      const answer = await call('BatchPeekMessage', () => sdk.batchPeekMessage(name, Math.min(count, MAX_PEEK)), true);
      return answer === undefined ? [] : [expectBody(answer, 'BatchPeekMessage')].flat().map(message);
    },
    hide: async (handle, seconds) => expectBody((await call('ChangeMessageVisibility', () => sdk.changeMessageVisibility(name, handle, seconds)))!, 'ChangeMessageVisibility').ReceiptHandle,
    delete: async (handle) => {
      const answer = (await call('DeleteMessage', () => sdk.deleteMessage(name, handle)))!;
      if (answer.code !== 204) throw new QueueError(`DeleteMessage answered HTTP ${answer.code}, not 204`, undefined);
    },
  };
}

/** The SDK's call; MNS's `MessageNotExist` is "nothing there" where `emptyIsNone`, any other refusal a QueueError. */
async function call<T>(action: string, request: () => Promise<SdkAnswer<T>>, emptyIsNone = false): Promise<SdkAnswer<T> | undefined> {
  try {
    return await request();
  } catch (error) {
    const code = /^MNS(\w+)Error$/.exec((error as Error).name)?.[1];
    if (emptyIsNone && code === 'MessageNotExist') return undefined;
    const status = /failed with (\d{3})\./.exec((error as Error).message)?.[1];
    if (code !== undefined) throw new QueueError(`${action} failed: ${code}${status ? ` (HTTP ${status})` : ''}`, code, { cause: error });
    // A transport error: Node's code (ECONNREFUSED, ENOTFOUND…) says it; httpx's message adds the URL without a separator.
    const nodeCode = (error as { code?: unknown }).code;
    throw new QueueError(`${action} failed: ${typeof nodeCode === 'string' ? nodeCode : oneLine(error)}`, typeof nodeCode === 'string' ? nodeCode : undefined, { cause: error });
  }
}

function expectBody<T>(answer: SdkAnswer<T>, action: string): T {
  if (answer.code < 200 || answer.code > 299 || answer.body === undefined) throw new QueueError(`${action} answered HTTP ${answer.code} without MNS's XML`, undefined);
  return answer.body;
}

function message(m: SdkMessage): QueueMessage {
  return { messageId: m.MessageId, body: m.MessageBody ?? '', enqueueTimeMs: Number(m.EnqueueTime), dequeueCount: Number(m.DequeueCount), receiptHandle: m.ReceiptHandle };
}
