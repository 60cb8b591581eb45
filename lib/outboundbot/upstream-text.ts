import type { Credentials } from '../core/credentials';
import { SecretRegistry } from '../core/redact';

/** Long enough for any real OutboundBot message; an upstream that echoes a whole request is cut. */
export const MAX_UPSTREAM_MESSAGE_CHARS = 512;

/**
 * Upstream text travels on into answers, thrown errors and summaries, where the log's redactor
 * does not reach. A proxy or upstream that echoes the Authorization header or the STS token
 * would hand them to the webhook caller: the same scrubbing as the log lines, and a bound.
 */
export function upstreamTextScrubber(credentials: Credentials): (text: string) => string {
  const secrets = new SecretRegistry(4);
  secrets.add(credentials.accessKeySecret);
  secrets.add(credentials.securityToken);
  return (text) => {
    const masked = secrets.maskText(text);
    return masked.length > MAX_UPSTREAM_MESSAGE_CHARS ? `${masked.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}…` : masked;
  };
}
