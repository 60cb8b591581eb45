// Attacks on the strict cleanup payload (zod strictObject), against the built cleanup bundle.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { script } from '../support/stack';
import { ALLOWED, FOREIGN, ctx, instance, useWorld } from './helpers';

const world = useWorld();

type Answer = Record<string, any> & { Issues?: Array<{ Path: string; Message: string }> };
const issues = (a: Answer) => (a.Issues ?? []).map((i) => `${i.Path}: ${i.Message}`);
const UNKNOWN = 'is not a known field (InstanceId, OlderThanMinutes, DryRun, MaxWithdrawals)';
const listings = (instanceId: string) =>
  world.emulator.requests.filter((r) => (r.action === 'QueryScriptsByStatus' || r.action === 'ListScripts') && r.query.InstanceId === instanceId).length;
const withdrawals = (instanceId: string) => world.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.InstanceId === instanceId).length;
const timer = (payload: unknown) => ({ triggerTime: '2026-12-02T03:00:00Z', triggerName: 'nightly', payload });

async function cleanup(env: Record<string, string> = {}) {
  return instance(world, env, 'cleanup');
}
async function run(w: Awaited<ReturnType<typeof cleanup>>, event: unknown): Promise<Answer> {
  const a = await w.invoke(event, { ...ctx(world), function: { name: 'cleanup', timeout: 10 } });
  if (a.error) throw new Error(`cleanup threw: ${JSON.stringify(a.error)}`);
  return a.value as Answer;
}

describe('prototype and unknown keys in the cleanup payload', () => {
  it('__proto__ (object, null, carrying MaxWithdrawals), constructor, toString, hasOwnProperty, "" — each refused by name, in the timer text and unwrapped', async () => {
    const w = await cleanup();
    const before = listings(ALLOWED);
    const cases: Array<[string, string[]]> = [
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"__proto__":{"MaxWithdrawals":1}}`, ['__proto__']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"__proto__":null}`, ['__proto__']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"__proto__":{"DryRun":true}}`, ['__proto__']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"constructor":1,"toString":"x","hasOwnProperty":null}`, ['constructor', 'toString', 'hasOwnProperty']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"":1}`, ['']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"maxWithdrawals":3}`, ['maxWithdrawals']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"MaxWithdrawals ":3}`, ['MaxWithdrawals ']],
      [`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"Items":[]}`, ['Items']],
    ];
    for (const [text, keys] of cases) {
      const direct = await run(w, text);
      expect([text, direct.Code, issues(direct)]).toEqual([text, 'InvalidParameter', keys.map((k) => `${k}: ${UNKNOWN}`)]);
      const wrapped = await run(w, timer(text));
      expect([text, issues(wrapped)]).toEqual([text, keys.map((k) => `payload.${k}: ${UNKNOWN}`)]);
    }
    expect(listings(ALLOWED)).toBe(before);
  });

  it('observed: duplicate keys are read last-wins (JSON.parse), so a refused cap followed by a good one runs, and the reverse is refused', async () => {
    const w = await cleanup();
    const refused = await run(w, timer(`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"DryRun":true,"MaxWithdrawals":3,"MaxWithdrawals":20000}`));
    expect(issues(refused)).toEqual(['payload.MaxWithdrawals: must be at most 10000']);
    const ran = await run(w, timer(`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"DryRun":true,"MaxWithdrawals":20000,"MaxWithdrawals":3}`));
    expect([ran.MaxWithdrawals, ran.DryRun]).toEqual([3, true]);
  });
});

describe('numbers at the edges', () => {
  it('OlderThanMinutes and MaxWithdrawals: -0, 0, 1.5, 1e21, 2**53, 1e400, strings, null, booleans, arrays — refused with our words; 5.0, 1e0 and the bounds pass', async () => {
    const w = await cleanup();
    const cases: Array<[string, string[]]> = [
      ['-0', ['must be at least 1']],
      ['0', ['must be at least 1']],
      ['-1', ['must be at least 1']],
      ['1.5', ['must be an integer']],
      ['1e21', ['must be an integer', 'must be at most 525600']],
      ['9007199254740992', ['must be an integer', 'must be at most 525600']],
      ['1e400', ['must be a number']],
      ['-1e400', ['must be a number']],
      ['"5"', ['must be a number']],
      ['null', ['must be a number']],
      ['true', ['must be a number']],
      ['[5]', ['must be a number']],
      ['{}', ['must be a number']],
      ['525601', ['must be at most 525600']],
    ];
    for (const [n, messages] of cases) {
      const a = await run(w, timer(`{"InstanceId":"${ALLOWED}","OlderThanMinutes":${n},"DryRun":true}`));
      expect([n, issues(a)]).toEqual([n, messages.map((m) => `payload.OlderThanMinutes: ${m}`)]);
      const cap = n === '525601' ? '10001' : n;
      const b = await run(w, timer(`{"InstanceId":"${ALLOWED}","OlderThanMinutes":5,"DryRun":true,"MaxWithdrawals":${cap}}`));
      const capMessages = messages.map((m) => m.replace('525600', '10000'));
      expect([cap, issues(b)]).toEqual([cap, capMessages.map((m) => `payload.MaxWithdrawals: ${m}`)]);
    }
    for (const [older, max] of [['5.0', '1e0'], ['525600', '10000'], ['1', '1'], ['1E2', '2.0000000000000001']]) {
      const a = await run(w, timer(`{"InstanceId":"${ALLOWED}","OlderThanMinutes":${older},"DryRun":true,"MaxWithdrawals":${max}}`));
      expect([older, max, a.Code === 'InvalidParameter' ? issues(a) : 'ran', a.OlderThanMinutes, a.MaxWithdrawals]).toEqual([older, max, 'ran', Number(older), Number(max)]);
    }
  });

  it('DryRun: strings, numbers, null are refused (a "true" string must not turn a dry run into withdrawals, nor "false" into a dry run)', async () => {
    const id = randomUUID();
    world.emulator.addInstance(`dry-${id.slice(0, 8)}`, [script(id, 'EXAMINE_IN_PROGRESS', Date.now() - 86_400_000)]);
    const inst = `dry-${id.slice(0, 8)}`;
    const w = await cleanup({ ALLOWED_INSTANCE_IDS: inst });
    for (const dry of ['"true"', '"false"', '1', '0', 'null', '[]', '{}', '"yes"']) {
      const a = await run(w, timer(`{"InstanceId":"${inst}","OlderThanMinutes":5,"DryRun":${dry}}`));
      expect([dry, issues(a)]).toEqual([dry, ['payload.DryRun: must be true or false']]);
    }
    expect(withdrawals(inst)).toBe(0);
    expect(listings(inst)).toBe(0);
  });
});

describe('InstanceId in the payload', () => {
  it('bad ids refused by the id rule; a foreign one 403 before listing', async () => {
    const w = await cleanup();
    for (const id of ['""', '"a\\u0000"', '"a\\n"', '"\\ud800"', '5', 'null', '"-a"', `"${'a'.repeat(65)}"`]) {
      const a = await run(w, timer(`{"InstanceId":${id},"OlderThanMinutes":5}`));
      expect([id, a.Code, a.Issues?.[0]?.Path]).toEqual([id, 'InvalidParameter', 'payload.InstanceId']);
    }
    const before = listings(FOREIGN);
    const f = await run(w, timer(`{"InstanceId":"${FOREIGN}","OlderThanMinutes":5}`));
    expect(f.Code).toBe('InstanceNotAllowed');
    expect(listings(FOREIGN)).toBe(before);
  });

  it('an own __proto__ carrying the required fields does not supply them', async () => {
    const w = await cleanup();
    const a = await run(w, timer(`{"__proto__":{"InstanceId":"${ALLOWED}","OlderThanMinutes":5}}`));
    expect(issues(a)).toEqual(['payload.InstanceId: is required', 'payload.OlderThanMinutes: is required', `payload.__proto__: ${UNKNOWN}`]);
  });
});
