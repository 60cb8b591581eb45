// A minimal RESP client, so the bench can ask the Redis of its store-cost row (launched by
// local/redis-server.ts) how many commands it served: the proof that the store was really used.
import { createConnection } from 'node:net';

/** `total_commands_processed` from INFO stats; the INFO itself counts as one. */
export async function commandsProcessed(port: number): Promise<number> {
  const info = await command(port, ['INFO', 'stats']);
  const match = /total_commands_processed:(\d+)/.exec(info);
  if (!match) throw new Error('redis INFO stats has no total_commands_processed');
  return Number(match[1]);
}

/** One command, one bulk-string (or status) reply. */
function command(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis command timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const text = buffer.toString('latin1');
      const eol = text.indexOf('\r\n');
      if (eol < 0) return;
      if (text[0] === '-') return reject(new Error(text.slice(1, eol)));
      if (text[0] !== '$') {
        socket.end();
        return resolve(text.slice(1, eol));
      }
      const length = Number(text.slice(1, eol));
      if (buffer.length < eol + 2 + length) return;
      socket.end();
      resolve(buffer.subarray(eol + 2, eol + 2 + length).toString());
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}
