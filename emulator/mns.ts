/**
 * A loopback stand-in for an MNS (Simple Message Queue) endpoint, for the queue actions the
 * failure queue's producer and its redrive use: SendMessage, ReceiveMessage and
 * BatchReceiveMessage (with `waitseconds` long polling), PeekMessage and BatchPeekMessage,
 * DeleteMessage and ChangeMessageVisibility, in MNS's XML wire format. Every request must carry
 * a valid MNS signature (`mns-auth.ts`), as the real service requires; a refusal is MNS's error
 * XML with its status. The official SDK (`@alicloud/mns`) talks to it unchanged.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateMns, type MnsRefusal } from './mns-auth';
import { MessageTooLongError, MnsQueue, type MnsMessage } from './mns-queue';
import { elementText, errorXml, xmlDocument, xmlList, type XmlFields } from './mns-xml';

export interface MnsEmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The keys it accepts. */
  credentials: ReadonlyArray<{ accessKeyId: string; accessKeySecret: string }>;
  /** The queues it holds; VisibilityTimeout defaults to MNS's 30 s. */
  queues: ReadonlyArray<{ name: string; visibilityTimeoutSeconds?: number }>;
  now?: () => number;
}

export interface MnsEmulator {
  /** `http://host:port`: the SDK's `endpoint` option. */
  readonly url: string;
  readonly port: number;
  readonly queueNames: readonly string[];
  /** The queue itself, for the local stack (which parks failures in it) and tests. */
  queue(name: string): MnsQueue | undefined;
  close(): Promise<void>;
}

const QUEUE_PATH = /^\/queues\/([A-Za-z][A-Za-z0-9-]{0,255})\/messages$/;
const MNS_VERSION = '2015-06-06';
/** MNS's limits: 16 messages a batch, 30 s of long polling. */
const MAX_BATCH = 16;
const MAX_WAIT_SECONDS = 30;
const POLL_INTERVAL_MS = 50;

interface Answer {
  status: number;
  xml?: string;
}

export async function startMnsEmulator(options: MnsEmulatorOptions): Promise<MnsEmulator> {
  const now = options.now ?? Date.now;
  const secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c.accessKeySecret]));
  const queues = new Map(options.queues.map(({ name, visibilityTimeoutSeconds }) => [name, new MnsQueue(name, visibilityTimeoutSeconds ?? 30, now)]));
  let closing = false;
  let url = '';
  const server = createServer((req, res) => {
    void readBody(req)
      .then((body) => handle({ req, body, queues, secrets, now, isClosing: () => closing, hostId: url }))
      .then((answer) => send(res, answer), () => send(res, failure(500, 'InternalError', 'Interal error.', url)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    queueNames: [...queues.keys()],
    queue: (name) => queues.get(name),
    close: () => {
      closing = true;
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Call {
  req: IncomingMessage;
  body: Buffer;
  queues: ReadonlyMap<string, MnsQueue>;
  secrets: ReadonlyMap<string, string>;
  now: () => number;
  isClosing: () => boolean;
  hostId: string;
}

/** Authentication first, then the queue, then the action the method and query name. */
async function handle(call: Call): Promise<Answer> {
  const { req, body, hostId } = call;
  const resource = req.url ?? '/';
  const refusal = authenticateMns({ method: req.method ?? '', resource, headers: req.headers, body }, call.secrets, call.now());
  if (refusal) return failure(refusal.status, refusal.code, refusal.message, hostId);
  const [path, query = ''] = resource.split('?', 2) as [string, string?];
  const name = QUEUE_PATH.exec(path)?.[1];
  if (name === undefined) return failure(400, 'InvalidRequestURL', 'Http request URL format invalid.', hostId);
  const queue = call.queues.get(name);
  if (queue === undefined) return failure(404, 'QueueNotExist', 'The queue name you provided is not exist.', hostId);
  // Parameter names are matched as the SDKs spell them, which differs by action (ReceiptHandle, receiptHandle).
  const params = new Map([...new URLSearchParams(query)].map(([key, value]) => [key.toLowerCase(), value]));
  const refused = (r: MnsRefusal) => failure(r.status, r.code, r.message, hostId);
  switch (req.method) {
    case 'POST':
      return sendMessage(queue, body.toString('utf8'), hostId);
    case 'GET':
      return params.get('peekonly') === 'true' ? peek(queue, params, hostId) : receive(call, queue, params);
    case 'DELETE':
      return withHandle(params.get('receipthandle'), hostId, (handle) => {
        const error = queue.delete(handle);
        return error ? refused(handleRefusal(error)) : { status: 204 };
      });
    case 'PUT':
      return withHandle(params.get('receipthandle'), hostId, (handle) => changeVisibility(queue, handle, params.get('visibilitytimeout'), hostId));
    default:
      return failure(400, 'InvalidRequestURL', `${req.method} is not a queue message action.`, hostId);
  }
}

function sendMessage(queue: MnsQueue, xml: string, hostId: string): Answer {
  const body = elementText(xml, 'MessageBody');
  if (body === undefined) return failure(400, 'MalformedXML', 'The XML you provided was not well-formed.', hostId);
  const delay = Number(elementText(xml, 'DelaySeconds') ?? 0);
  const priority = Number(elementText(xml, 'Priority') ?? 8);
  if (!Number.isInteger(delay) || delay < 0 || delay > 604_800) return failure(400, 'InvalidArgument', 'The value of DelaySeconds should between 0 and 604800 seconds.', hostId);
  if (!Number.isInteger(priority) || priority < 1 || priority > 16) return failure(400, 'InvalidArgument', 'The value of Priority should between 1 and 16.', hostId);
  let sent: MnsMessage;
  try {
    sent = queue.send(body, delay, priority);
  } catch (error) {
    if (!(error instanceof MessageTooLongError)) throw error;
    return failure(400, 'InvalidArgument', 'The length of message should not be larger than MaximumMessageSize.', hostId);
  }
  return { status: 201, xml: xmlDocument('Message', { MessageId: sent.MessageId, MessageBodyMD5: sent.MessageBodyMD5 }) };
}

/** `numOfMessages` makes it a batch (answered as `Messages`); without it, one `Message`. */
function batchSize(params: ReadonlyMap<string, string>, hostId: string): number | Answer {
  const text = params.get('numofmessages');
  if (text === undefined) return 0;
  const count = Number(text);
  return Number.isInteger(count) && count >= 1 && count <= MAX_BATCH ? count : failure(400, 'InvalidArgument', `The value of numOfMessages should between 1 and ${MAX_BATCH}.`, hostId);
}

function messagesAnswer(messages: MnsMessage[], batch: boolean, hostId: string): Answer {
  if (messages.length === 0) return failure(404, 'MessageNotExist', 'Message not exist.', hostId);
  const fields = messages.map((m) => messageFields(m));
  return { status: 200, xml: batch ? xmlList('Messages', 'Message', fields) : xmlDocument('Message', fields[0]!) };
}

function peek(queue: MnsQueue, params: ReadonlyMap<string, string>, hostId: string): Answer {
  const size = batchSize(params, hostId);
  return typeof size === 'number' ? messagesAnswer(queue.peek(size || 1), size > 0, hostId) : size;
}

/** Long polling: with `waitseconds`, an empty queue is asked again until a message comes or the time is up. */
async function receive(call: Call, queue: MnsQueue, params: ReadonlyMap<string, string>): Promise<Answer> {
  const size = batchSize(params, call.hostId);
  if (typeof size !== 'number') return size;
  const waitSeconds = Number(params.get('waitseconds') ?? 0);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) {
    return failure(400, 'InvalidArgument', `The value of waitseconds should between 0 and ${MAX_WAIT_SECONDS} seconds.`, call.hostId);
  }
  const untilMs = call.now() + waitSeconds * 1000;
  let messages = queue.receive(size || 1);
  while (messages.length === 0 && call.now() < untilMs && !call.isClosing()) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    messages = queue.receive(size || 1);
  }
  return messagesAnswer(messages, size > 0, call.hostId);
}

function changeVisibility(queue: MnsQueue, handle: string, timeoutText: string | undefined, hostId: string): Answer {
  if (timeoutText === undefined) return failure(400, 'MissingVisibilityTimeout', 'VisibilityTimeout is required.', hostId);
  const seconds = Number(timeoutText);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 43_200) return failure(400, 'InvalidArgument', 'The value of VisibilityTimeout should between 1 and 43200 seconds.', hostId);
  const changed = queue.changeVisibility(handle, seconds);
  if (typeof changed === 'string') {
    const refusal = handleRefusal(changed);
    return failure(refusal.status, refusal.code, refusal.message, hostId);
  }
  return { status: 200, xml: xmlDocument('ChangeVisibility', changed) };
}

function withHandle(handle: string | undefined, hostId: string, act: (handle: string) => Answer): Answer {
  return handle === undefined ? failure(400, 'MissingReceiptHandle', 'ReceiptHandle is required.', hostId) : act(handle);
}

function handleRefusal(code: 'ReceiptHandleError' | 'MessageNotExist'): MnsRefusal {
  return code === 'ReceiptHandleError'
    ? { status: 400, code, message: 'The receipt handle you provided is not valid.' }
    : { status: 404, code, message: 'Message not exist.' };
}

function messageFields(m: MnsMessage): XmlFields {
  const fields: XmlFields = { MessageId: m.MessageId };
  if (m.ReceiptHandle !== undefined) fields.ReceiptHandle = m.ReceiptHandle;
  Object.assign(fields, { MessageBodyMD5: m.MessageBodyMD5, MessageBody: m.MessageBody, EnqueueTime: m.EnqueueTime, FirstDequeueTime: m.FirstDequeueTime, NextVisibleTime: m.NextVisibleTime, DequeueCount: m.DequeueCount, Priority: m.Priority });
  return fields;
}

function failure(status: number, code: string, message: string, hostId: string): Answer {
  return { status, xml: errorXml(code, message, randomBytes(12).toString('hex').toUpperCase(), hostId) };
}

function send(res: ServerResponse, { status, xml }: Answer): void {
  const headers: Record<string, string | number> = { 'x-mns-request-id': randomBytes(12).toString('hex').toUpperCase(), 'x-mns-version': MNS_VERSION };
  if (xml !== undefined) Object.assign(headers, { 'content-type': 'text/xml;charset=utf-8', 'content-length': Buffer.byteLength(xml) });
  res.writeHead(status, headers);
  res.end(xml);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
