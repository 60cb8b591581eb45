// Attacks on the zod schema of the environment (lib/runtime/config.ts), against the built bundles:
// each variant is a fresh FC instance (a process of its own) answering one invocation.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { httpEvent } from '../support/events';
import { ALLOWED, FOREIGN, SECRET, ctx, instance, signedHeaders, useWorld } from './helpers';
import { signWebhook } from '../../lib/webhooks/verify';

const world = useWorld();

const ZOD_DEFAULT = /Invalid input|Invalid (string|option|type|key|element|value)|expected [a-z]+, received|[Rr]eceived (undefined|null|number|string|boolean|array|object)|Too (big|small)|Unrecognized key|must match pattern|^Required$|Expected (number|string|boolean|array|object)/;
/** An item no gateway would be asked about. */
const BAD_ITEM = { InstanceId: ALLOWED, ScriptId: '-not-an-id' };
/**
 * An unsigned HTTP request: the withdraw function reads its configuration before the signature (a
 * direct invoke's body is parsed first), so a configuration that loads answers 401 InvalidSignature
 * (WEBHOOK_SECRET is set) and one that does not, 500 InvalidConfiguration. Nothing is called.
 */
const PROBE = httpEvent({ body: JSON.stringify(BAD_ITEM), contentType: 'application/json' });
const LOADED = 'InvalidSignature';
const BAD_CLEANUP = { InstanceId: ALLOWED, OlderThanMinutes: 0 };

interface Outcome {
  code: string | undefined;
  status: number | undefined;
  message: string;
  text: string;
}

/** One fresh instance with `env` (merged over the attack suite's base), one invocation, then gone. */
async function once(env: Record<string, string>, event: unknown = PROBE, bundle: 'withdraw' | 'cleanup' = 'withdraw'): Promise<Outcome> {
  const w = await instance(world, env, bundle);
  try {
    const answer = await w.invoke(event, { ...ctx(world), function: { name: bundle, timeout: 5 } });
    const raw = (answer.value ?? answer.error) as Record<string, any>;
    const body = typeof raw?.body === 'string' ? JSON.parse(raw.body) : raw;
    const code = answer.error ? `thrown:${answer.error.name}:${answer.error.message}` : body?.Code;
    return { code, status: body?.HttpStatusCode ?? raw?.statusCode, message: String(body?.Message ?? ''), text: JSON.stringify(answer) + w.output() };
  } finally {
    w.kill();
  }
}

async function all<T, R>(values: readonly T[], f: (v: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < values.length; i += 12) out.push(...(await Promise.all(values.slice(i, i + 12).map(f))));
  return out;
}
const show = (s: string) => JSON.stringify(s);

describe('integers: only ASCII decimal digits', () => {
  it('full-width, Arabic-Indic, NKo, mathematical, superscript digits, signs, exponents, hex, separators: InvalidConfiguration naming the variable', async () => {
    const refused = ['１２', '٣', '٢', '߂', '୨', '𝟐', '²', '+2', '-0', '2.0', '2e0', '0x2', '0b10', '2_0', '2,0', '2 2', 'Infinity', 'NaN', '2\u200b', '\u200b2'];
    const outcomes = await all(refused, (v) => once({ RETRY_MAX_ATTEMPTS: v }));
    expect(outcomes.map((o, i) => [show(refused[i]!), o.code, o.message]).filter(([, , m]) => m !== 'RETRY_MAX_ATTEMPTS: must be a whole number written in decimal digits')).toEqual([]);
    const huge = await once({ BATCH_CONCURRENCY: '9'.repeat(400) });
    expect([huge.code, huge.message]).toEqual(['InvalidConfiguration', 'BATCH_CONCURRENCY: must be a number']);
  });

  it('plain digits, leading zeros and ASCII whitespace around them are read', async () => {
    const accepted = ['2', '0002', ' 2', '2 ', '\t2\n', '\r\n2'];
    const outcomes = await all(accepted, (v) => once({ RETRY_MAX_ATTEMPTS: v }));
    expect(outcomes.map((o, i) => [show(accepted[i]!), o.code]).filter(([, c]) => c !== LOADED)).toEqual([]);
  });

  it('observed: Unicode whitespace (NBSP, U+3000, BOM, U+2028, U+205F) around the digits is trimmed like ASCII space, and alone it reads as unset', async () => {
    const accepted = ['\u00a02', '2\u3000', '\ufeff2', '\u20282', '2\u205f', '\u00a0', '\u3000'];
    const outcomes = await all(accepted, (v) => once({ RETRY_MAX_ATTEMPTS: v }));
    expect(outcomes.map((o, i) => [show(accepted[i]!), o.code]).filter(([, c]) => c !== LOADED)).toEqual([]);
  });
});

describe('choices and flags: trimmed, any case, but no Unicode case folding into a value', () => {
  it('LOG_LEVEL / OUTBOUNDBOT_PROTOCOL / CLEANUP_MODE look-alikes are refused; ASCII case and whitespace variants are read', async () => {
    const cases: Array<[Record<string, string>, 'withdraw' | 'cleanup', string]> = [
      ...['İNFO', 'ınfo', 'ＩＮＦＯ', 'info\u0301', 'inf o', 'info\u200b', 'informational', 'İnfo'.normalize('NFD')].map((v) => [{ LOG_LEVEL: v }, 'withdraw', 'InvalidConfiguration'] as [Record<string, string>, 'withdraw', string]),
      ...['ＨＴＴＰ', 'htţp', 'http:', 'https://'].map((v) => [{ OUTBOUNDBOT_PROTOCOL: v }, 'withdraw', 'InvalidConfiguration'] as [Record<string, string>, 'withdraw', string]),
      ...['İnline', 'ınline', 'FANOUT\u200b', 'fan-out'].map((v) => [{ CLEANUP_MODE: v }, 'cleanup', 'InvalidConfiguration'] as [Record<string, string>, 'cleanup', string]),
      ...['INFO', ' Warn ', 'ERROR', 'dEbUg'].map((v) => [{ LOG_LEVEL: v }, 'withdraw', LOADED] as [Record<string, string>, 'withdraw', string]),
      ...['HTTP', ' Https '].map((v) => [{ OUTBOUNDBOT_PROTOCOL: v }, 'withdraw', LOADED] as [Record<string, string>, 'withdraw', string]),
      ...['FANOUT', ' Inline\t'].map((v) => [{ CLEANUP_MODE: v }, 'cleanup', 'InvalidParameter'] as [Record<string, string>, 'cleanup', string]),
    ];
    const outcomes = await all(cases, ([env, bundle]) => once(env, bundle === 'cleanup' ? BAD_CLEANUP : PROBE, bundle));
    expect(outcomes.map((o, i) => [JSON.stringify(cases[i]![0]), o.code, cases[i]![2]]).filter(([, got, want]) => got !== want)).toEqual([]);
    for (const o of outcomes.filter((x) => x.code === 'InvalidConfiguration')) expect(o.message).toMatch(/^(LOG_LEVEL|OUTBOUNDBOT_PROTOCOL|CLEANUP_MODE): must be one of /);
  });

  it('ALLOW_UNSIGNED_HTTP: only true/1/yes (any ASCII case, trimmed) opens unsigned HTTP; look-alikes are 500, never "on"', async () => {
    const unsigned = httpEvent({ body: JSON.stringify(BAD_ITEM), contentType: 'application/json' });
    const open = ['TRUE', 'Yes', ' 1 ', 'yEs\t'];
    const closed = ['false', 'No', '0', ''];
    const refused = ['ｔｒｕｅ', 'on', 'y', 'true\u200b', 'tru', 'truе' /* Cyrillic e */, 'İ', '1.0', 'enabled'];
    const envBase = { WEBHOOK_SECRET: '__unset__' };
    const [o, c, r] = await Promise.all([
      all(open, (v) => once({ ...envBase, ALLOW_UNSIGNED_HTTP: v }, unsigned)),
      all(closed, (v) => once({ ...envBase, ALLOW_UNSIGNED_HTTP: v }, unsigned)),
      all(refused, (v) => once({ ...envBase, ALLOW_UNSIGNED_HTTP: v }, unsigned)),
    ]);
    expect(o.map((x, i) => [show(open[i]!), x.status])).toEqual(open.map((v) => [show(v), 400]));
    expect(c.map((x, i) => [show(closed[i]!), x.status])).toEqual(closed.map((v) => [show(v), 401]));
    expect(r.map((x, i) => [show(refused[i]!), x.status, x.code])).toEqual(refused.map((v) => [show(v), 500, 'InvalidConfiguration']));
  });
});

describe('ALLOWED_INSTANCE_IDS separators', () => {
  it('space, comma, tab, newline, NBSP and U+3000 separate; semicolons, pipes, full-width commas and separators alone are refused', async () => {
    const second = 'sep-second';
    const item = (InstanceId: string) => ({ InstanceId, ScriptId: 'no-such-script' });
    const separators = [',', ' ', '\t', '\n', ', ', ' ,\n', '\u00a0', '\u3000'];
    const results = await all(separators, async (sep) => {
      const env = { ALLOWED_INSTANCE_IDS: `${ALLOWED}${sep}${second}` };
      return [await once(env, item(second)), await once(env, item(FOREIGN))] as const;
    });
    expect(results.map(([mine, theirs], i) => [show(separators[i]!), mine.code === 'InstanceNotAllowed', theirs.code])).toEqual(
      separators.map((s) => [show(s), false, 'InstanceNotAllowed']),
    );
    const bad = [';', '|', '，', '、', '\u200b'];
    const refused = await all(bad, (sep) => once({ ALLOWED_INSTANCE_IDS: `${ALLOWED}${sep}${second}` }));
    expect(refused.map((o, i) => [show(bad[i]!), o.code]).filter(([, c]) => c !== 'InvalidConfiguration')).toEqual([]);
    const only = await all([' , ', ',,', '\u3000,\u00a0'], (v) => once({ ALLOWED_INSTANCE_IDS: v }));
    expect(only.map((o) => o.code)).toEqual(['InvalidConfiguration', 'InvalidConfiguration', 'InvalidConfiguration']);
  });
});

describe('WEBHOOK_SECRET forms', () => {
  const key = randomBytes(32).toString('base64');
  it('malformed secrets are 500 naming WEBHOOK_SECRET, never echoing any part of the secret', async () => {
    const forms = [
      `whsec_${key.replace(/=+$/, '')}`, // unpadded
      `whsec_${randomBytes(32).toString('base64url')}_-`, // base64url
      `whsec_${randomBytes(15).toString('base64')}`, // too short
      `"whsec_${key}"`,
      `'whsec_${key}'`,
      'whsec_',
      `WHSEC_${key}`,
      `whsec_${key};whsec_${key}`,
      `whsec_${key}\u200b`,
      key,
    ];
    const outcomes = await all(forms, (v) => once({ WEBHOOK_SECRET: v }));
    for (const [i, o] of outcomes.entries()) {
      expect([forms[i], o.code, o.message.startsWith('WEBHOOK_SECRET: each secret ')]).toEqual([forms[i], 'InvalidConfiguration', true]);
      for (const part of [key.slice(0, 16), forms[i]!.slice(7, 23)].filter((p) => p.length >= 6)) expect([forms[i], part, o.text.includes(part)]).toEqual([forms[i], part, false]);
    }
  });

  it('two secrets separated by comma, spaces, NBSP or a newline: a request signed with either verifies', async () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    for (const sep of [',', '  ', '\u00a0', '\n', ' , ']) {
      const w = await instance(world, { WEBHOOK_SECRET: `${SECRET}${sep}${other}` });
      for (const secret of [SECRET, other]) {
        const body = JSON.stringify(BAD_ITEM);
        const id = `msg_${randomBytes(6).toString('hex')}`;
        const ts = Math.floor(Date.now() / 1000);
        const ev = httpEvent({ body, contentType: 'application/json', headers: { ...signedHeaders(body), 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) } });
        const a = (await w.invoke(ev, ctx(world))).value as { statusCode: number };
        expect([show(sep), secret === SECRET ? 'first' : 'second', a.statusCode]).toEqual([show(sep), secret === SECRET ? 'first' : 'second', 400]);
      }
      w.kill();
    }
  });
});

describe('refused values are never echoed (DESIGN §5: "a bad variable (named, value never echoed)")', () => {
  it('CALLBACK_ALLOWED_HOSTS holding a callback URL with credentials and a path token is echoed, whole, in the 500 answer to an unsigned HTTP request', async () => {
    const value = 'https://hook:Pa55w0rdInUrl@receiver.example/T0KEN-abcdef123456';
    const unsigned = httpEvent({ body: '{}', contentType: 'application/json' });
    const o = await once({ CALLBACK_ALLOWED_HOSTS: value }, unsigned);
    expect([o.status, o.code]).toEqual([500, 'InvalidConfiguration']);
    expect(o.message).toMatch(/^CALLBACK_ALLOWED_HOSTS: /);
    expect([o.message.includes('Pa55w0rdInUrl'), o.message.includes('T0KEN-abcdef123456')]).toEqual([false, false]);
  });

  it('ALLOWED_INSTANCE_IDS with a bad entry is echoed; an access-key secret that also sits in it reaches the answer and the log unmasked', async () => {
    const keySecret = `Ks${randomBytes(12).toString('hex')}`;
    const unsigned = httpEvent({ body: '{}', contentType: 'application/json' });
    const o = await once({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: keySecret, ALLOWED_INSTANCE_IDS: `${ALLOWED};${keySecret}` }, unsigned);
    expect([o.status, o.code]).toEqual([500, 'InvalidConfiguration']);
    expect([o.message.includes(keySecret), o.text.includes(keySecret)]).toEqual([false, false]);
  });

  it('IDEMPOTENCY_REDIS_URL, WEBHOOK_SECRET and numbers: the message names the variable and never carries the value', async () => {
    const password = `pw${randomBytes(8).toString('hex')}`;
    const cases: Array<Record<string, string>> = [
      { IDEMPOTENCY_REDIS_URL: `redis://:${password}%ZZ@127.0.0.1:1/0` },
      { IDEMPOTENCY_REDIS_URL: `http://:${password}@127.0.0.1:1` },
      { IDEMPOTENCY_REDIS_URL: `redis://:${password}@` },
      { WEBHOOK_SECRET: `whsec_${password}` },
      { IDEMPOTENCY_TTL_SECONDS: `${password}` },
      { OUTBOUNDBOT_ENDPOINT: `https://${password}.example` },
      { FC_ENDPOINT: `ftp://${password}.example` },
    ];
    const outcomes = await all(cases, (env) => once(env, 'FC_ENDPOINT' in env ? BAD_CLEANUP : PROBE, 'FC_ENDPOINT' in env ? 'cleanup' : 'withdraw'));
    expect(outcomes.map((o, i) => [Object.keys(cases[i]!)[0], o.code, o.text.includes(password), ZOD_DEFAULT.test(o.message)])).toEqual(
      cases.map((env) => [Object.keys(env)[0], 'InvalidConfiguration', false, false]),
    );
  });
});

describe('blank is unset; host[:port] is a port', () => {
  it('a blank or whitespace-only OUTBOUNDBOT_ENDPOINT (README: "a blank value is the same as unset") is 500 InvalidConfiguration instead of the default', async () => {
    const outcomes = await all(['', ' ', '\t'], (v) => once({ OUTBOUNDBOT_ENDPOINT: v }));
    expect(outcomes.map((o) => [o.code, o.message])).toEqual([0, 1, 2].map(() => [LOADED, expect.any(String)]));
  });

  it('a blank WITHDRAW_FUNCTION_NAME makes every cleanup run, inline ones included, 500 InvalidConfiguration', async () => {
    const outcomes = await all(['', ' '], (v) => once({ WITHDRAW_FUNCTION_NAME: v }, BAD_CLEANUP, 'cleanup'));
    expect(outcomes.map((o) => o.code)).toEqual(['InvalidParameter', 'InvalidParameter']);
  });

  it('OUTBOUNDBOT_ENDPOINT with port 0, 65536 or 99999 is accepted; every withdrawal then fails retryably (ERR_SOCKET_BAD_PORT) and is thrown for FC to retry', async () => {
    const ports = ['0', '65536', '99999'];
    const configs = await all(ports, (p) => once({ OUTBOUNDBOT_ENDPOINT: `127.0.0.1:${p}` }));
    const real = await once({ OUTBOUNDBOT_ENDPOINT: '127.0.0.1:99999' }, { InstanceId: ALLOWED, ScriptId: 'a-real-looking-id' });
    expect({ configs: configs.map((o) => o.code), withdrawal: real.code }).toEqual({
      configs: ['InvalidConfiguration', 'InvalidConfiguration', 'InvalidConfiguration'],
      withdrawal: 'InvalidConfiguration',
    });
  });

  it('FC_ENDPOINT http://host:99999, http://[::1 or http://host: passes the config check (the cleanup answers its payload, not 500 InvalidConfiguration)', async () => {
    const outcomes = await all(['http://127.0.0.1:99999', 'http://[::1', 'http://127.0.0.1:'], (v) => once({ FC_ENDPOINT: v, CLEANUP_MODE: 'fanout' }, BAD_CLEANUP, 'cleanup'));
    expect(outcomes.map((o) => o.code)).toEqual(['InvalidConfiguration', 'InvalidConfiguration', 'InvalidConfiguration']);
  });
});

describe('no zod default wording in configuration answers', () => {
  it('random text in every integer, choice, flag, list, URL and name variable', async () => {
    const names = ['OUTBOUNDBOT_ENDPOINT', 'OUTBOUNDBOT_PROTOCOL', 'RETRY_MAX_ATTEMPTS', 'CALLBACK_ALLOWED_HOSTS', 'LOG_LEVEL', 'ALLOWED_INSTANCE_IDS', 'IDEMPOTENCY_REDIS_URL', 'IDEMPOTENCY_TTL_SECONDS', 'WEBHOOK_SECRET', 'ALLOW_UNSIGNED_HTTP', 'BATCH_CONCURRENCY'];
    const junk = ['{}', '[]', 'null', 'undefined', '-1', '1e309', 'true', '\ud800', 'a'.repeat(5000), 'http://', 'redis://', 'whsec_', '::', '[', '\\', '%', '__proto__'];
    const cases = names.flatMap((name) => junk.map((v) => ({ [name]: v })));
    const outcomes = await all(cases, (env) => once(env));
    const messages = new Set(outcomes.map((o) => o.message));
    expect([...messages].filter((m) => ZOD_DEFAULT.test(m))).toEqual([]);
  }, 120_000);
});
