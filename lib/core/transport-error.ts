/**
 * What httpx and node:http throw when no usable answer arrived, reduced to a Code and a
 * message, the same for every peer (OutboundBot, Function Compute).
 */
export function transportFailure(error: unknown, peer: string): { code: string; message: string } {
  const e = error as { code?: unknown; name?: unknown };
  if (typeof e?.name === 'string' && e.name.startsWith('RequestTimeout')) return { code: 'RequestTimeout', message: `${peer} did not answer in time` };
  if (error instanceof SyntaxError) return { code: 'InvalidResponse', message: `${peer} answered with a body that is not JSON` };
  const code = typeof e?.code === 'string' && /^E[A-Z_]+$/.test(e.code) ? e.code : 'NetworkError';
  return { code, message: `Request to ${peer} failed: ${code}` };
}
