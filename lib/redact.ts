/**
 * The last line of defence between a secret and the log: known secret values are
 * masked wherever they appear (including inside messages of errors thrown by
 * dependencies), and so are fields and text that look like keys, tokens or signatures.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_KEY = /secret|token|signature|authorization|password|credential|accesskey|cookie/i;
const SENSITIVE_TEXT: RegExp[] = [
  /whsec_[A-Za-z0-9+/=_-]+/g,
  /\b(v1a?,)[A-Za-z0-9+/=]{16,}/g,
  /(Signature=)[0-9A-Fa-f]+/g,
  /(Credential=)[^,\s]+/g,
  /\bSTS\.[A-Za-z0-9]{8,}/g,
  /\bLTAI[A-Za-z0-9]{8,}/g,
];

/** Keeps the most recent secrets (STS tokens rotate hourly); bounded so a long-lived instance does not grow. */
export class SecretRegistry {
  private readonly values = new Set<string>();
  constructor(private readonly capacity = 64) {}

  add(value: string | undefined): void {
    // Short values would mask ordinary words; real keys and tokens are long.
    if (!value || value.length < 8) return;
    this.values.delete(value);
    this.values.add(value);
    if (this.values.size > this.capacity) this.values.delete(this.values.values().next().value as string);
  }

  maskText(text: string): string {
    let out = text;
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const pattern of SENSITIVE_TEXT) {
      // A capture group holds the label worth keeping (`Signature=`), the rest is masked.
      out = out.replace(pattern, (_match, keep: unknown) => (typeof keep === 'string' ? keep + REDACTED : REDACTED));
    }
    return out;
  }

  /** A deep copy with sensitive keys and text masked; errors become plain {name, message, code}. */
  redact(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.maskText(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > 8) return '[Truncated]';
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return this.redact({ name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) }, depth + 1);
    }
    if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
    if (Array.isArray(value)) return value.map((v) => this.redact(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = SENSITIVE_KEY.test(key) ? REDACTED : this.redact(v, depth + 1);
    return out;
  }
}
