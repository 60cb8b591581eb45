/**
 * One MNS queue's messages and their states, as the MNS queue API describes them: a sent
 * message is Active (visible) once its delay is over; ReceiveMessage makes it Inactive until
 * `NextVisibleTime` and hands out a receipt handle that alone can delete it or change that time,
 * and only until then; PeekMessage reads without changing anything. Order: priority (1 first),
 * then when it became visible, then when it was sent.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';

/** A message as ReceiveMessage and PeekMessage describe it; times are epoch ms. */
export interface MnsMessage {
  MessageId: string;
  MessageBody: string;
  MessageBodyMD5: string;
  EnqueueTime: number;
  FirstDequeueTime: number;
  DequeueCount: number;
  Priority: number;
  NextVisibleTime: number;
  /** The handle of the last receive; valid until NextVisibleTime. Absent before any receive. */
  ReceiptHandle?: string;
}

/** Why a receipt handle was refused, with MNS's codes: a malformed one, or one no longer (or never) current. */
export type HandleRefusal = 'ReceiptHandleError' | 'MessageNotExist';

/** A handle is opaque to clients; ours is URL-safe because the Node.js SDK puts it in the query unescaped. */
const HANDLE = /^[0-9A-F]{8}-[0-9A-F]{24}$/;

const newHandle = (): string => `${randomBytes(4).toString('hex')}-${randomBytes(12).toString('hex')}`.toUpperCase();

/** A queue's largest MaximumMessageSize, and its default: 64 KB (MNS's limits). */
const MAX_MESSAGE_BYTES = 65_536;

/** A body longer than MAX_MESSAGE_BYTES, which MNS refuses whoever sends it. */
export class MessageTooLongError extends Error {
  constructor(bytes: number) {
    super(`MessageTooLong: ${bytes} bytes, more than the queue's MaximumMessageSize of ${MAX_MESSAGE_BYTES}`);
  }
}

export class MnsQueue {
  readonly #messages: MnsMessage[] = [];

  constructor(
    readonly name: string,
    /** The queue's VisibilityTimeout attribute: how long a received message stays Inactive. */
    readonly visibilityTimeoutSeconds: number,
    private readonly now: () => number,
  ) {}

  /** @throws MessageTooLongError when `body` is longer than MNS takes. */
  send(body: string, delaySeconds = 0, priority = 8): MnsMessage {
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLongError(bytes);
    const nowMs = this.now();
    const message: MnsMessage = {
      MessageId: randomBytes(16).toString('hex').toUpperCase(),
      MessageBody: body,
      MessageBodyMD5: createHash('md5').update(body, 'utf8').digest('hex').toUpperCase(),
      EnqueueTime: nowMs,
      FirstDequeueTime: 0,
      DequeueCount: 0,
      Priority: priority,
      NextVisibleTime: nowMs + delaySeconds * 1000,
    };
    this.#messages.push(message);
    return { ...message };
  }

  /** Up to `count` Active messages, now Inactive for the visibility timeout, each with a fresh handle. */
  receive(count: number): MnsMessage[] {
    const nowMs = this.now();
    return this.#visible(nowMs, count).map((message) => {
      message.ReceiptHandle = newHandle();
      message.NextVisibleTime = nowMs + this.visibilityTimeoutSeconds * 1000;
      message.DequeueCount += 1;
      if (message.FirstDequeueTime === 0) message.FirstDequeueTime = nowMs;
      return { ...message };
    });
  }

  /** Up to `count` Active messages, unchanged (and without a handle). */
  peek(count: number): MnsMessage[] {
    return this.#visible(this.now(), count).map(({ ReceiptHandle: _, ...message }) => message);
  }

  delete(handle: string): HandleRefusal | undefined {
    const found = this.#byHandle(handle);
    if (typeof found === 'string') return found;
    this.#messages.splice(this.#messages.indexOf(found), 1);
    return undefined;
  }

  /** A new handle and NextVisibleTime `seconds` from now; the old handle stops working. */
  changeVisibility(handle: string, seconds: number): HandleRefusal | Pick<MnsMessage, 'NextVisibleTime'> & { ReceiptHandle: string } {
    const found = this.#byHandle(handle);
    if (typeof found === 'string') return found;
    found.ReceiptHandle = newHandle();
    found.NextVisibleTime = this.now() + seconds * 1000;
    return { ReceiptHandle: found.ReceiptHandle, NextVisibleTime: found.NextVisibleTime };
  }

  /** Every message, Active or not, oldest first: copies, for tests and the local stack. */
  messages(): MnsMessage[] {
    return this.#messages.map((message) => ({ ...message }));
  }

  #visible(nowMs: number, count: number): MnsMessage[] {
    return this.#messages
      .filter((message) => message.NextVisibleTime <= nowMs)
      .sort((a, b) => a.Priority - b.Priority || a.NextVisibleTime - b.NextVisibleTime || a.EnqueueTime - b.EnqueueTime)
      .slice(0, count);
  }

  #byHandle(handle: string): MnsMessage | HandleRefusal {
    if (!HANDLE.test(handle)) return 'ReceiptHandleError';
    const message = this.#messages.find((m) => m.ReceiptHandle === handle);
    return message === undefined || message.NextVisibleTime <= this.now() ? 'MessageNotExist' : message;
  }
}
