// The published contract (docs/contract/, issue #19): generated from the schemas the functions
// parse with, committed as generated, and true of what the function really answers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { contractDocuments, contractText } from '../../local/contract';
import { httpEvent } from '../support/events';
import { contextFor, serviceFor, useTestEmulator } from '../support/stack';

const DIR = path.resolve(__dirname, '../../docs/contract');
const committed = (name: string) => JSON.parse(readFileSync(path.join(DIR, name), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
// The function reads a CallbackUrl as the URL parser does; the contract's "uri" means the same here.
ajv.addFormat('uri', (text: string) => URL.canParse(text));
const request = ajv.compile(committed('withdraw-request.schema.json'));
const cleanupPayload = ajv.compile(committed('cleanup-payload.schema.json'));
const result = ajv.compile(committed('withdraw-result.schema.json'));
const openapi = committed('openapi.json') as { components: { schemas: Record<string, object> }; paths: Record<string, any> };
const errorBody = ajv.compile(openapi.components.schemas.ErrorBody!);

const ID = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
const item = { InstanceId: ID, ScriptId: ID };

describe('docs/contract', () => {
  it.each(Object.keys(contractDocuments()))('%s is what the schemas generate (run `npm run contract` after a change)', (name) => {
    expect(readFileSync(path.join(DIR, name), 'utf8')).toBe(contractText(contractDocuments()[name]!));
  });

  it('a good item or batch validates; a bad id, an empty or oversized batch, a non-URL CallbackUrl does not', () => {
    expect([item, { ...item, CallbackUrl: 'https://hooks.example.com/x' }, { Items: [item, item] }].map((value) => request(value))).toEqual([true, true, true]);
    const bad = [{ ...item, ScriptId: '-bad' }, { InstanceId: ID }, { Items: [] }, { Items: Array.from({ length: 101 }, () => item) }, { Items: [{ ...item, InstanceId: 'a b' }] }, { ...item, CallbackUrl: 1 }, 'text'];
    expect(bad.map((value) => request(value))).toEqual(bad.map(() => false));
  });

  it('the cleanup payload: strict, with its ranges', () => {
    expect(cleanupPayload({ InstanceId: ID, OlderThanMinutes: 1440, DryRun: true, MaxWithdrawals: 200 })).toBe(true);
    for (const bad of [{ InstanceId: ID }, { InstanceId: ID, OlderThanMinutes: 0 }, { InstanceId: ID, OlderThanMinutes: 1.5 }, { InstanceId: ID, OlderThanMinutes: 60, MaxWithdrawal: 5 }]) {
      expect(cleanupPayload(bad)).toBe(false);
    }
  });

  it('the OpenAPI document answers every status the HTTP trigger sends, retry-after where it is sent', () => {
    const responses = openapi.paths['/'].post.responses as Record<string, { headers: Record<string, unknown> }>;
    expect(Object.keys(responses).sort()).toEqual(['200', '207', '400', '401', '403', '404', '405', '409', '413', '415', '422', '500', '502', '503', '504']);
    expect(Object.keys(responses).filter((status) => 'retry-after' in responses[status]!.headers)).toEqual(['409', '503']);
  });
});

describe('real answers hold to docs/contract', () => {
  const env = useTestEmulator('inst-contract', 3);
  const answer = async (body: unknown, extraEnv: Record<string, string> = {}) => {
    const { service } = serviceFor(env.emulator, extraEnv);
    const event = httpEvent({ body: JSON.stringify(body), contentType: 'application/json' });
    const response = (await service.handle(Buffer.from(JSON.stringify(event)), contextFor(env.role) as never)) as { statusCode: number; body: string };
    return { status: response.statusCode, body: JSON.parse(response.body) as unknown };
  };

  it('a success, an upstream refusal, a batch with both, a retried failure', async () => {
    const [a, b, c] = env.ids;
    // Every attempt of the first item fails: a 502 after the retries.
    env.emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 4, action: 'WithdrawScriptReview' });
    const failed = await answer({ InstanceId: 'inst-contract', ScriptId: c });
    const answers = [failed, await answer({ InstanceId: 'inst-contract', ScriptId: a }), await answer({ InstanceId: 'inst-contract', ScriptId: 'missing' }), await answer({ Items: [{ InstanceId: 'inst-contract', ScriptId: b }, { InstanceId: 'inst-contract', ScriptId: 'gone' }] })];
    expect(answers.map((x) => x.status)).toEqual([502, 200, 404, 207]);
    for (const { body } of answers) expect([result(body), ajv.errorsText(result.errors)]).toEqual([true, 'No errors']);
  });

  it('our refusals are the ErrorBody', async () => {
    const refused = [await answer({ InstanceId: '-bad' }), await answer({ ...item, CallbackUrl: 'https://elsewhere.example/x' })];
    expect(refused.map((x) => x.status)).toEqual([400, 400]);
    for (const { body } of refused) expect([errorBody(body), ajv.errorsText(errorBody.errors)]).toEqual([true, 'No errors']);
  });
});
