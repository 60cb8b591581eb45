import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST the receiver got: its path, headers and JSON body. */
export interface Delivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface CallbackReceiver {
  /** `http://127.0.0.1:<port>`: allow-list it with CALLBACK_ALLOWED_HOSTS=127.0.0.1. */
  origin: string;
  /** In arrival order. A delivery is recorded before it is answered, so once the sender has its answer, it is here. */
  deliveries: Delivery[];
  /** The deliveries whose body is the result for this script. */
  for(scriptId: string): Delivery[];
  close(): Promise<void>;
}

/** A loopback webhook receiver that answers 204 to every POST and keeps what it got. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({ path: req.url ?? '/', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    for: (scriptId) => deliveries.filter((d) => d.body.ScriptId === scriptId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
