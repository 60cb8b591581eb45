/**
 * The gateway's authentication of a routed request: AccessKey lookup, `x-acs-date` window,
 * STS token, signature nonce and ACS3-HMAC-SHA256 signature, in the real gateway's order.
 * It holds the state these need: the known credentials and the nonces already used.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { parseAcsDate, verifyRequest } from './acs3';
import { errorAnswer, type JsonAnswer } from './answers';
import { headerString, type IncomingCall } from './http-wire';
import type { EmulatorCredential } from './types';

export class GatewayAuth {
  readonly #maxClockSkewMs: number;
  readonly #credentials = new Map<string, EmulatorCredential>();
  /** nonce → forget-after (epoch ms); insertion order is expiry order, so pruning stops early. */
  readonly #nonces = new Map<string, number>();

  constructor(maxClockSkewMs: number) {
    this.#maxClockSkewMs = maxClockSkewMs;
  }

  addCredential(credential: EmulatorCredential): void {
    this.#credentials.set(credential.accessKeyId, { ...credential });
  }

  /** Undefined when the request may proceed; the nonce is only remembered once the signature holds. */
  authenticate(call: IncomingCall, nowMs: number, requestId: string): JsonAnswer | undefined {
    const { auth, received } = call;
    if (!call.hasAuthorization) return errorAnswer(400, 'MissingAuthorization', 'Authorization is mandatory for this action.', requestId);
    if (auth === undefined) return errorAnswer(400, 'IncompleteSignature', 'The Authorization header is not a well-formed ACS3-HMAC-SHA256 authorization.', requestId);
    const credential = this.#credentials.get(auth.accessKeyId);
    if (credential === undefined) return errorAnswer(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.', requestId);

    const refusal =
      this.#checkDate(headerString(received.headers, 'x-acs-date'), nowMs, requestId) ??
      checkSecurityToken(credential, headerString(received.headers, 'x-acs-security-token'), nowMs, requestId);
    if (refusal) return refusal;

    const nonce = headerString(received.headers, 'x-acs-signature-nonce');
    this.#forgetExpiredNonces(nowMs);
    if (nonce !== undefined && this.#nonces.has(nonce)) return errorAnswer(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.', requestId);

    const verdict = verifyRequest(received, auth, credential.accessKeySecret);
    if (!verdict.ok) return errorAnswer(400, verdict.code, verdict.message, requestId);
    if (nonce !== undefined) this.#nonces.set(nonce, nowMs + 2 * this.#maxClockSkewMs);
    return undefined;
  }

  #checkDate(date: string | undefined, nowMs: number, requestId: string): JsonAnswer | undefined {
    const dateMs = parseAcsDate(date);
    if (dateMs !== undefined && Math.abs(nowMs - dateMs) <= this.#maxClockSkewMs) return undefined;
    return errorAnswer(400, 'InvalidTimeStamp.Expired', `Specified time stamp or date value is expired or malformed: ${date ?? '(missing)'}.`, requestId);
  }

  /** Entries past their window cannot match a request anyway (its date would be refused first). */
  #forgetExpiredNonces(nowMs: number): void {
    for (const [nonce, forgetAfterMs] of this.#nonces) {
      if (forgetAfterMs > nowMs) return;
      this.#nonces.delete(nonce);
    }
  }
}

/** A permanent key presenting a token is refused too: it means the client mixed up credentials. */
function checkSecurityToken(credential: EmulatorCredential, token: string | undefined, nowMs: number, requestId: string): JsonAnswer | undefined {
  const mismatch = (): JsonAnswer =>
    errorAnswer(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The security token does not belong to this access key.', requestId);
  if (credential.securityToken === undefined) return token === undefined ? undefined : mismatch();
  if (token === undefined) return errorAnswer(400, 'MissingSecurityToken', 'SecurityToken is mandatory for STS access keys.', requestId);
  if (!constantTimeEqual(token, credential.securityToken)) return mismatch();
  if (credential.expiresAtMs !== undefined && nowMs > credential.expiresAtMs) {
    return errorAnswer(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.', requestId);
  }
  return undefined;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
