import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/core/logger';
import { REDACTED, SecretRegistry } from '../../lib/core/redact';

function capture(secrets = new SecretRegistry()) {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', secrets, write: (l) => lines.push(l), nowMs: () => 0 });
  return { lines, log, secrets };
}

describe('logger and redaction', () => {
  it('writes one JSON object per line with the bound fields', () => {
    const { lines, log } = capture();
    log.child({ requestId: 'r-1', trigger: 'http' }).info('withdrawal succeeded', { ScriptId: 's-1' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'info', message: 'withdrawal succeeded', requestId: 'r-1', trigger: 'http', ScriptId: 's-1' });
  });

  it('drops lines under the level', () => {
    const { lines, log } = capture();
    log.debug('noise');
    expect(lines).toEqual([]);
  });

  it('masks registered secrets wherever they appear, even inside an error message', () => {
    const { lines, log, secrets } = capture();
    secrets.add('sts-token-CAISabcdefgh12345');
    log.error('crash', { error: new Error('upstream said: bad token sts-token-CAISabcdefgh12345 (retry)') });
    expect(lines[0]).not.toContain('CAISabcdefgh12345');
    expect(JSON.parse(lines[0]!).error.message).toBe(`upstream said: bad token ${REDACTED} (retry)`);
  });

  it('masks sensitive keys at any depth', () => {
    const { lines, log } = capture();
    log.info('x', { headers: { Authorization: 'ACS3-HMAC-SHA256 Credential=LTAI,Signature=ab12', 'webhook-signature': 'v1,abc' }, nested: [{ accessKeySecret: 's3cr3t' }] });
    const record = JSON.parse(lines[0]!);
    expect(record.headers).toEqual({ Authorization: REDACTED, 'webhook-signature': REDACTED });
    expect(record.nested).toEqual([{ accessKeySecret: REDACTED }]);
  });

  it('masks a sensitive key and a registered secret in a flat line too (the fast path)', () => {
    const { lines, log, secrets } = capture();
    secrets.add('flat-secret-value-123456');
    log.info('x', { securityToken: 'CAIS-plain-string-token', Code: 'OK', Message: 'echoed flat-secret-value-123456', Attempts: 1 });
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ securityToken: REDACTED, Code: 'OK', Message: `echoed ${REDACTED}`, Attempts: 1 });
    expect(lines[0]).not.toContain('CAIS-plain-string-token');
  });

  it('masks secret-shaped text in free strings', () => {
    const { lines, log } = capture();
    log.info('x', {
      note: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw Signature=deadbeef00 v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= Credential=LTAI5tAbcdefgh,',
    });
    const note = JSON.parse(lines[0]!).note as string;
    expect(note).not.toMatch(/MfKQ9r8|deadbeef|K5oZfzN|LTAI5tAbcdefgh/);
    expect(note).toContain(`Signature=${REDACTED}`);
  });

  it('keeps a bounded set of secrets, newest kept', () => {
    const secrets = new SecretRegistry(2);
    secrets.add('first-secret-1');
    secrets.add('second-secret-2');
    secrets.add('third-secret-3');
    expect(secrets.maskText('first-secret-1 third-secret-3')).toBe(`first-secret-1 ${REDACTED}`);
  });

  it('keeps a pinned secret (the configuration\'s) however many rotating ones come after it', () => {
    const secrets = new SecretRegistry(2);
    secrets.pin('config-secret-0');
    for (let i = 1; i <= 5; i++) secrets.add(`rotating-secret-${i}`);
    expect(secrets.maskText('config-secret-0 rotating-secret-1 rotating-secret-5')).toBe(`${REDACTED} rotating-secret-1 ${REDACTED}`);
  });

  it('ignores values too short to be secrets', () => {
    const secrets = new SecretRegistry();
    secrets.add('abc');
    expect(secrets.maskText('abc')).toBe('abc');
  });

  it('masks a known secret percent-encoded, as an upstream echoing a signed query string writes it', () => {
    const registry = new SecretRegistry();
    const token = 'CAIS+token/with=padding==';
    registry.add(token);
    for (const form of [encodeURIComponent(token), encodeURIComponent(token).toLowerCase().replace(/caiS/i, 'CAIS')]) {
      expect(registry.maskText(`server string to sign is: SecurityToken%3D${form}&x`)).toBe(`server string to sign is: SecurityToken%3D${REDACTED}&x`);
    }
    expect(registry.maskText(`StringToSign=POST&%2F&SecurityToken%253D${encodeURIComponent(encodeURIComponent(token))}`)).toContain(REDACTED);
    expect(registry.maskText(encodeURIComponent(encodeURIComponent(token)))).toBe(REDACTED);
    const quoted = "it's(secret)*!";
    registry.pin(quoted);
    expect(registry.maskText(`a=${encodeURIComponent(quoted).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`)).toBe(`a=${REDACTED}`);
  });
});
