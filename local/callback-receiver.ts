/**
 * The callback receiver `npm start` runs beside the functions, so that a user sees each signed
 * result callback arrive: every POST is verified as a receiver should verify it (Standard
 * Webhooks, with CALLBACK_SECRET, by the project's own verifier) and printed as one line.
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../lib/webhooks/verify';
import { hostInUrl } from './fc-frontend';

/** Where the functions post: the receiver answers any path, and prints the one it got. */
export const CALLBACK_PATH = '/callbacks';
/** A callback body larger than this is not a result of ours (a cleanup summary of 10,000 candidates is ~1.5 MB). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Next to the front end and the emulator (9002 beside 9000 and 9001); PORT=0 (or a port with no room) leaves it to the system. */
export function defaultReceiverPort(port: number): number {
  return port === 0 || port >= 65_534 ? 0 : port + 2;
}

export interface CallbackReceiverOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** CALLBACK_SECRET's secrets (`whsec_…`); a callback is verified against any of them. */
  secrets: readonly string[];
  /** Receives one line per callback. */
  print: (line: string) => void;
  nowMs?: () => number;
}

export interface CallbackReceiver {
  /** `http://host:port/callbacks`: what CALLBACK_URL is set to. */
  url: string;
  /** `host:port`, as CALLBACK_ALLOWED_HOSTS names it. */
  hostEntry: string;
  close(): Promise<void>;
}

/**
 * One line per callback: `callback received: <path> webhook-id <id>, signature verified with
 * CALLBACK_SECRET: <body>`, or `…, signature REFUSED (<why>): <body>` answered 401.
 */
export async function startCallbackReceiver(options: CallbackReceiverOptions): Promise<CallbackReceiver> {
  const nowMs = options.nowMs ?? Date.now;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(' ') : value;
      let verdict: string;
      let status = 204;
      if (req.method !== 'POST') {
        verdict = `${req.method ?? '?'} is not a callback (POST only)`;
        status = 405;
      } else if (size > MAX_BODY_BYTES) {
        verdict = `body over ${MAX_BODY_BYTES} bytes, not read`;
        status = 413;
      } else {
        try {
          verifyWebhook({ secrets: options.secrets, headers, rawBody, nowMs: nowMs() });
          verdict = 'signature verified with CALLBACK_SECRET';
        } catch (error) {
          verdict = `signature REFUSED (${(error as Error).message})`;
          status = 401;
        }
      }
      const body = rawBody.toString('utf8').replace(/\s*\n\s*/g, ' ');
      options.print(`callback received: ${req.method ?? '?'} ${req.url ?? '/'} webhook-id ${headers['webhook-id'] ?? '(none)'}, ${verdict}: ${body}`);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = hostInUrl(options.host);
  return {
    url: `http://${host}:${port}${CALLBACK_PATH}`,
    hostEntry: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
