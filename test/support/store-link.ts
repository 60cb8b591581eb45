// A loopback TCP proxy to a redis-server for the attack tests: constant added latency, freeze and
// thaw (connections stay open, nothing is forwarded), or a cut on a command naming a marker.
import net from 'node:net';

export interface StoreLink {
  /** The redis:// URL through the link, with `password`. */
  url: string;
  freeze(): void;
  /** From the next client chunk naming `marker` on, nothing is forwarded (as `freeze`): what came before got through. */
  freezeOn(marker: string): void;
  thaw(): void;
  /** The next client chunk naming `marker` reaches Redis, its reply never comes back, and the link refuses connections for `outageMs`. */
  cutOn(marker: string, outageMs: number): void;
  close(): Promise<void>;
}

export async function storeLink(port: number, password: string, latencyMs = 0): Promise<StoreLink> {
  let frozen = false;
  let cut: { marker: string; outageMs: number } | undefined;
  let freezeMarker: string | undefined;
  let refuseUntil = 0;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) return void client.destroy();
    const upstreamSocket = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstreamSocket);
    const send = (to: net.Socket, chunk: Buffer) => {
      const write = () => !to.destroyed && to.write(chunk);
      if (frozen) held.push(write);
      else if (latencyMs > 0) setTimeout(write, latencyMs);
      else write();
    };
    client.on('data', (chunk: Buffer) => {
      if (freezeMarker !== undefined && chunk.includes(freezeMarker)) [frozen, freezeMarker] = [true, undefined];
      if (cut && chunk.includes(cut.marker)) {
        const { outageMs } = cut;
        cut = undefined;
        upstreamSocket.write(chunk);
        refuseUntil = Date.now() + outageMs;
        client.destroy();
        setTimeout(() => upstreamSocket.destroy(), 200);
        for (const s of sockets) if (s !== upstreamSocket) s.destroy();
        return;
      }
      send(upstreamSocket, chunk);
    });
    upstreamSocket.on('data', (chunk: Buffer) => send(client, chunk));
    client.on('error', () => upstreamSocket.destroy());
    upstreamSocket.on('error', () => client.destroy());
    client.on('close', () => setTimeout(() => upstreamSocket.destroy(), 200));
    upstreamSocket.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyPort = (server.address() as net.AddressInfo).port;
  return {
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${proxyPort}/0`,
    freeze: () => (frozen = true),
    freezeOn: (marker) => (freezeMarker = marker),
    thaw: () => {
      frozen = false;
      for (const f of held.splice(0)) f();
    },
    cutOn: (marker, outageMs) => (cut = { marker, outageMs }),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
