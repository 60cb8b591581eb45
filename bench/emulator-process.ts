// The emulator in a process of its own, as the real gateway is: its work does not share the
// measured event loop. Driven over IPC by bench/bench.ts.
import { startEmulator } from '../emulator/outboundbot';

interface Setup {
  credential: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  instanceId: string;
  scriptCount: number;
}

async function main() {
  const emulator = await startEmulator();
  process.on('message', (message: { setup?: Setup; latencyMs?: number; close?: boolean }) => {
    if (message.setup) {
      const { credential, instanceId, scriptCount } = message.setup;
      emulator.addCredential(credential);
      emulator.addInstance(
        instanceId,
        Array.from({ length: scriptCount }, (_, i) => ({ ScriptId: `bench-${i}`, ScriptName: `bench ${i}`, Status: 'EXAMINE_IN_PROGRESS', UpdateTime: Date.now() })),
      );
    }
    if (message.latencyMs !== undefined) emulator.setLatency(message.latencyMs);
    if (message.close) void emulator.close().then(() => process.exit(0));
    process.send!({ ok: true, endpoint: emulator.endpoint });
  });
  process.send!({ ok: true, endpoint: emulator.endpoint });
}
void main();
