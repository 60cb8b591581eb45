/**
 * The last line of defence between a secret and the log: known secret values are
 * masked wherever they appear (including inside messages of errors thrown by
 * dependencies), and so are fields and text that look like keys, tokens or signatures.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_KEY = /secret|token|signature|authorization|password|credential|accesskey|cookie/i;
/**
 * Secret-shaped text, one alternation so a line is scanned once. Capture groups hold the
 * label worth keeping (`Signature=`); the rest of the match is masked.
 */
const SENSITIVE_TEXT =
  /whsec_[A-Za-z0-9+/=_-]+|\b(v1a?,)[A-Za-z0-9+/=]{16,}|(Signature=)[0-9A-Fa-f]+|(Credential=)[^,\s"]+|\bSTS\.[A-Za-z0-9]{8,}|\bLTAI[A-Za-z0-9]{8,}/g;

/**
 * The secrets to mask: the configuration's for the instance's life, and the most recent rotating
 * ones (STS tokens rotate hourly), bounded so a long-lived instance does not grow. Each is kept
 * with the other forms it may appear in: JSON-escaped inside a JSON line, percent-encoded where an
 * upstream echoes a signed query string ("server string to sign is: …SecurityToken%3D…").
 */
export class SecretRegistry {
  private readonly pinned = new Map<string, string[]>();
  private readonly rotating = new Map<string, string[]>();
  constructor(private readonly capacity = 64) {}

  /** A rotating secret (the role's keys): the oldest goes when `capacity` newer ones came after it. */
  add(value: string | undefined): void {
    if (!isMaskable(value)) return;
    this.rotating.delete(value);
    this.rotating.set(value, otherForms(value));
    if (this.rotating.size > this.capacity) this.rotating.delete(this.rotating.keys().next().value as string);
  }

  /** A secret of the configuration: masked as long as the instance lives, whatever rotates after it. */
  pin(value: string | undefined): void {
    if (isMaskable(value)) this.pinned.set(value, otherForms(value));
  }

  maskText(text: string): string {
    const out = maskAll(maskAll(text, this.pinned), this.rotating);
    return out.replace(SENSITIVE_TEXT, (_match, v1?: string, signature?: string, credential?: string) => (v1 ?? signature ?? credential ?? '') + REDACTED);
  }

  /**
   * One JSON line with sensitive keys masked, errors reduced to {name, message, code},
   * buffers to their size, and the finished text scanned once for secrets. A flat record of
   * plain values (every withdrawal's line) skips the replacer: JSON.stringify's native path
   * is several times faster than calling back into JavaScript for every key.
   */
  serialize(record: Record<string, unknown>): string {
    const line = isPlainFlat(record) ? JSON.stringify(record) : JSON.stringify(record, replaceSensitive);
    return this.maskText(line);
  }
}

// Short values would mask ordinary words; real keys and tokens are long.
const isMaskable = (value: string | undefined): value is string => value !== undefined && value.length >= 8;
/**
 * JSON-escaped, and percent-encoded as encodeURIComponent and RFC 3986 (which also encodes !'()*)
 * write it, once or twice (an RPC string to sign encodes the encoded query again); those that differ.
 */
function otherForms(value: string): string[] {
  const percent = encodeURIComponent(value);
  const rfc3986 = percent.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const forms = new Set([JSON.stringify(value).slice(1, -1), percent, rfc3986, rfc3986.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())]);
  for (const once of [percent, rfc3986]) forms.add(encodeURIComponent(once));
  forms.delete(value);
  return [...forms];
}

function maskAll(text: string, secrets: Map<string, string[]>): string {
  let out = text;
  for (const [secret, forms] of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** Verdicts per key name: log records reuse a few dozen keys, so the regex runs once for each. */
const sensitiveKeys = new Map<string, boolean>();
function isSensitiveKey(key: string): boolean {
  let verdict = sensitiveKeys.get(key);
  if (verdict === undefined) {
    verdict = SENSITIVE_KEY.test(key);
    if (sensitiveKeys.size < 1_000) sensitiveKeys.set(key, verdict);
  }
  return verdict;
}

/** No nested value and no sensitive key: nothing for the replacer to do. */
function isPlainFlat(record: Record<string, unknown>): boolean {
  for (const key in record) {
    const value = record[key];
    if (value !== null && typeof value === 'object') return false;
    if (isSensitiveKey(key)) return false;
  }
  return true;
}

function replaceSensitive(key: string, value: unknown): unknown {
  if (key !== '' && isSensitiveKey(key)) return REDACTED;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  if (isSerializedBuffer(value)) return `[Buffer ${value.data.length} bytes]`;
  return value;
}

function isSerializedBuffer(value: unknown): value is { type: 'Buffer'; data: unknown[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}
