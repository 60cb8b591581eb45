/**
 * DescribeScript and QueryScriptsByStatus, encoded as the official SDK
 * (aliyun/alibabacloud-typescript-sdk, outboundbot-20191226) sends them, and disabled actions.
 */
import type { OpenApiRequest } from '@alicloud/openapi-client';
import OpenApiUtil from '@alicloud/openapi-util';
import type { RuntimeOptions } from '@alicloud/tea-util';
import { describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorScript } from '../../emulator/outboundbot';
import {
  DRAFTED,
  INSTANCE,
  KEY,
  PUBLISHED_UNDER_REVIEW,
  UNDER_REVIEW,
  UUID_UPPER,
  apiParams,
  callApi,
  emulator,
  expectRefused,
  nowMs,
  officialClient,
  rejection,
  scriptFixture,
  send,
  sendJson,
  signed,
  useEmulator,
  withdrawQuery,
} from './harness';

useEmulator();

const REVIEW_STATES = ['EXAMINE_IN_PROGRESS', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS'];

/** The query exactly as the SDK's queryScriptsByStatusWithOptions builds it. */
const sdkQuery = (fields: { InstanceId?: string; PageNumber?: number; PageSize?: number; StatusList?: string[] }): Record<string, string> => OpenApiUtil.query(fields);

/** Plain request and runtime objects and the shared Params, as lib/outboundbot/client.ts passes them. */
const callAsProject = (action: string, query: Record<string, string>, endpoint = emulator.endpoint) =>
  officialClient(KEY, endpoint).callApi(apiParams(action), { query } as OpenApiRequest, { autoretry: false, readTimeout: 5_000, connectTimeout: 5_000 } as RuntimeOptions);

const describeScript = (ScriptId: string, InstanceId = INSTANCE) => signed({ action: 'DescribeScript', query: { InstanceId, ScriptId } });
const queryByStatus = (query: Record<string, string>) => signed({ action: 'QueryScriptsByStatus', query });

interface ScriptsPage {
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
  List: EmulatorScript[];
}

/** 23 scripts cycling through two review states and two others, in a known order. */
const many = Array.from({ length: 23 }, (_, i) =>
  scriptFixture(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ['EXAMINE_IN_PROGRESS', 'PUBLISHED', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', 'DRAFTED'][i % 4]!),
);
const underReview = many.filter((s) => REVIEW_STATES.includes(s.Status));

describe('DescribeScript', () => {
  it('answers the SDK response model shape with the current state, and changes nothing', async () => {
    const { status, body } = await sendJson(describeScript(UNDER_REVIEW));
    expect(status).toBe(200);
    expect(body).toEqual({
      HttpStatusCode: 200,
      Code: 'OK',
      Message: 'Success',
      RequestId: expect.stringMatching(UUID_UPPER),
      Success: true,
      Script: scriptFixture(UNDER_REVIEW, 'EXAMINE_IN_PROGRESS'),
    });
    expect(emulator.script(INSTANCE, UNDER_REVIEW)?.Status).toBe('EXAMINE_IN_PROGRESS');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
    expect(emulator.requests).toEqual([
      { action: 'DescribeScript', query: { InstanceId: INSTANCE, ScriptId: UNDER_REVIEW }, accessKeyId: KEY.accessKeyId, status: 200, code: 'OK', atMs: nowMs },
    ]);
  });

  it('reports a withdrawal: the new Status and UpdateTime', async () => {
    expect((await send(signed({ query: withdrawQuery(PUBLISHED_UNDER_REVIEW) }))).status).toBe(200);
    const { body } = await sendJson(describeScript(PUBLISHED_UNDER_REVIEW));
    expect(body['Script']).toMatchObject({ ScriptId: PUBLISHED_UNDER_REVIEW, Status: 'PUBLISHED', UpdateTime: nowMs });
  });

  it('answers the same 404s and 400s as WithdrawScriptReview', async () => {
    await expectRefused(describeScript(UNDER_REVIEW, 'nope'), 404, 'NotExist.Instance');
    await expectRefused(describeScript('nope'), 404, 'NotExist.Script');
    await expectRefused(signed({ action: 'DescribeScript', query: { ScriptId: UNDER_REVIEW } }), 400, 'MissingInstanceId');
    await expectRefused(signed({ action: 'DescribeScript', query: { InstanceId: INSTANCE } }), 400, 'MissingScriptId');
  });
});

describe('QueryScriptsByStatus', () => {
  it('encodes StatusList the SDK way: an RPC repeat list StatusList.1, StatusList.2', () => {
    expect(sdkQuery({ InstanceId: INSTANCE, PageNumber: 1, PageSize: 10, StatusList: REVIEW_STATES })).toEqual({
      InstanceId: INSTANCE,
      PageNumber: '1',
      PageSize: '10',
      'StatusList.1': 'EXAMINE_IN_PROGRESS',
      'StatusList.2': 'PUBLISHED_AND_EXAMINE_IN_PROGRESS',
    });
  });

  it('pages through exactly the scripts in the given states, in ListScripts order', async () => {
    emulator.addInstance(INSTANCE, many);
    const seen: string[] = [];
    for (const PageNumber of [1, 2, 3]) {
      const { status, body } = await sendJson(queryByStatus(sdkQuery({ InstanceId: INSTANCE, PageNumber, PageSize: 5, StatusList: REVIEW_STATES })));
      expect(status).toBe(200);
      expect(body).toMatchObject({ HttpStatusCode: 200, Code: 'OK', Message: 'Success', Success: true, RequestId: expect.stringMatching(UUID_UPPER) });
      const scripts = body['Scripts'] as ScriptsPage;
      expect(scripts).toMatchObject({ TotalCount: underReview.length, PageNumber, PageSize: 5 });
      seen.push(...scripts.List.map((s) => s.ScriptId));
    }
    expect(underReview).toHaveLength(12);
    expect(seen).toEqual(underReview.map((s) => s.ScriptId));
  });

  it('answers whole scripts, one state or none', async () => {
    emulator.addInstance(INSTANCE, many);
    const drafted = await sendJson(queryByStatus(sdkQuery({ InstanceId: INSTANCE, PageSize: 100, StatusList: ['DRAFTED'] })));
    expect(drafted.body['Scripts']).toEqual({ TotalCount: 5, PageNumber: 1, PageSize: 100, List: many.filter((s) => s.Status === 'DRAFTED') });
    const none = await sendJson(queryByStatus(sdkQuery({ InstanceId: INSTANCE, StatusList: ['IMPORT_FAILED'] })));
    expect(none.body['Scripts']).toEqual({ TotalCount: 0, PageNumber: 1, PageSize: 10, List: [] });
  });

  it('pages like ListScripts: page 1 of 10 by default, PageSize clamped to 100, nonsense refused', async () => {
    emulator.addInstance(INSTANCE, many);
    const first = await sendJson(queryByStatus(sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES })));
    expect(first.body['Scripts']).toMatchObject({ TotalCount: 12, PageNumber: 1, PageSize: 10, List: underReview.slice(0, 10) });
    const clamped = await sendJson(queryByStatus(sdkQuery({ InstanceId: INSTANCE, PageSize: 500, StatusList: REVIEW_STATES })));
    expect(clamped.body['Scripts']).toMatchObject({ PageSize: 100, List: underReview });
    await expectRefused(queryByStatus({ ...sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES }), PageNumber: '0' }), 400, 'InvalidParameter');
    await expectRefused(queryByStatus({ ...sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES }), PageSize: 'ten' }), 400, 'InvalidParameter');
    await expectRefused(queryByStatus(sdkQuery({ InstanceId: 'nope', StatusList: REVIEW_STATES })), 404, 'NotExist.Instance');
    await expectRefused(queryByStatus(sdkQuery({ StatusList: REVIEW_STATES })), 400, 'MissingInstanceId');
  });

  it('refuses a StatusList the SDK would never send: missing, bare, JSON, comma-joined, gapped, empty or unknown', async () => {
    const refusedLists: Array<Record<string, string>> = [
      {},
      { StatusList: 'EXAMINE_IN_PROGRESS' },
      { StatusList: JSON.stringify(REVIEW_STATES) },
      { 'StatusList.1': REVIEW_STATES.join(',') },
      { 'StatusList.2': 'EXAMINE_IN_PROGRESS' },
      { 'StatusList.0': 'EXAMINE_IN_PROGRESS' },
      { 'StatusList.1': 'EXAMINE_IN_PROGRESS', 'StatusList.3': 'PUBLISHED' },
      { 'StatusList.1': '' },
      { 'StatusList.1': 'examine_in_progress' },
    ];
    for (const list of refusedLists) {
      await expectRefused(queryByStatus({ InstanceId: INSTANCE, ...list }), 400, 'InvalidParameter');
    }
    expect(emulator.requests.map((r) => r.code)).toEqual(refusedLists.map(() => 'InvalidParameter'));
  });

  it('reads StatusList from a signed form body too, like every parameter', async () => {
    const { body } = await sendJson(signed({ action: 'QueryScriptsByStatus', query: {}, form: sdkQuery({ InstanceId: INSTANCE, StatusList: ['DRAFTED'] }) }));
    expect((body['Scripts'] as ScriptsPage).List.map((s) => s.ScriptId)).toEqual([DRAFTED]);
  });
});

describe('the official client, called as lib/outboundbot/client.ts calls it', () => {
  it('QueryScriptsByStatus with the SDK-flattened StatusList, then DescribeScript', async () => {
    emulator.addInstance(INSTANCE, many);
    const listed = await callAsProject('QueryScriptsByStatus', sdkQuery({ InstanceId: INSTANCE, PageNumber: 2, PageSize: 10, StatusList: REVIEW_STATES }));
    expect(listed.statusCode).toBe(200);
    expect(listed.body['Scripts']).toEqual({ TotalCount: 12, PageNumber: 2, PageSize: 10, List: underReview.slice(10) });

    const described = await callAsProject('DescribeScript', { InstanceId: INSTANCE, ScriptId: underReview[11]!.ScriptId });
    expect(described.body).toMatchObject({ Success: true, Code: 'OK', Script: underReview[11] });
    expect(emulator.requests.map((r) => [r.action, r.status])).toEqual([
      ['QueryScriptsByStatus', 200],
      ['DescribeScript', 200],
    ]);
    expect(emulator.requests[0]?.query).toMatchObject({ 'StatusList.1': 'EXAMINE_IN_PROGRESS', 'StatusList.2': 'PUBLISHED_AND_EXAMINE_IN_PROGRESS' });
  });

  it('a JSON-stringified StatusList is refused, not silently matched', async () => {
    const error = await rejection(callAsProject('QueryScriptsByStatus', { InstanceId: INSTANCE, StatusList: JSON.stringify(REVIEW_STATES) }));
    expect(error.code).toBe('InvalidParameter');
    expect(error.data?.['statusCode']).toBe(400);
  });

  it('unknown script: the 404 reaches the client as its code and status', async () => {
    const error = await rejection(callAsProject('DescribeScript', { InstanceId: INSTANCE, ScriptId: 'nope' }));
    expect(error.code).toBe('NotExist.Script');
    expect(error.data?.['statusCode']).toBe(404);
  });
});

describe('gateway behaviour shared with the other actions', () => {
  it('verifies the signature: a StatusList changed after signing is refused', async () => {
    const request = queryByStatus(sdkQuery({ InstanceId: INSTANCE, StatusList: ['EXAMINE_IN_PROGRESS'] }));
    await expectRefused({ ...request, path: request.path.replace('StatusList.1=EXAMINE_IN_PROGRESS', 'StatusList.1=DRAFTED') }, 400, 'SignatureDoesNotMatch');
    await expectRefused(signed({ action: 'DescribeScript', query: { InstanceId: INSTANCE, ScriptId: UNDER_REVIEW }, credential: { ...KEY, accessKeySecret: 'wrong' } }), 400, 'SignatureDoesNotMatch');
    expect((await send(request)).status).toBe(200);
  });

  it('plays faults queued for the action, and faults for any action', async () => {
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' }, { action: 'DescribeScript' });
    emulator.injectFault({ kind: 'status', status: 429, code: 'Throttling.User' }, { action: 'QueryScriptsByStatus' });
    const query = sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES });
    expect((await send(signed({ query: withdrawQuery() }))).status).toBe(200);
    await expectRefused(queryByStatus(query), 429, 'Throttling.User');
    await expectRefused(describeScript(UNDER_REVIEW), 503, 'ServiceUnavailable');
    expect((await send(describeScript(UNDER_REVIEW))).status).toBe(200);

    emulator.injectFault({ kind: 'reset' });
    await expect(send(queryByStatus(query))).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(emulator.requests.at(-1)).toMatchObject({ action: 'QueryScriptsByStatus', status: 0, code: '' });
  });

  it('delay and latency apply to their answers', async () => {
    emulator.injectFault({ kind: 'delay', ms: 120 }, { action: 'QueryScriptsByStatus' });
    let startedMs = performance.now();
    expect((await sendJson(queryByStatus(sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES })))).status).toBe(200);
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(110);

    emulator.setLatency(60);
    startedMs = performance.now();
    expect((await sendJson(describeScript(UNDER_REVIEW))).status).toBe(200);
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(55);
  });
});

describe('disabled actions', () => {
  it('answer 404 InvalidAction.NotFound like an unknown action, while the others keep working', async () => {
    emulator.setDisabledActions(['QueryScriptsByStatus']);
    const query = sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES });
    const refused = await sendJson(queryByStatus(query));
    const unknown = await sendJson(signed({ action: 'QueryScriptsByState', query }));
    expect([refused.status, refused.body['Code']]).toEqual([404, 'InvalidAction.NotFound']);
    expect(refused.body).toMatchObject({ HttpStatusCode: 404, Success: false, HostId: expect.any(String), RequestId: expect.stringMatching(UUID_UPPER) });
    expect(refused.body['Message']).toBe(String(unknown.body['Message']).replace('QueryScriptsByState', 'QueryScriptsByStatus'));
    expect((await sendJson(signed({ action: 'ListScripts', query: { InstanceId: INSTANCE } }))).status).toBe(200);
    expect(emulator.requests.map((r) => [r.action, r.status, r.code])).toEqual([
      ['QueryScriptsByStatus', 404, 'InvalidAction.NotFound'],
      ['QueryScriptsByState', 404, 'InvalidAction.NotFound'],
      ['ListScripts', 200, 'OK'],
    ]);
  });

  it('are refused at routing: before authentication and before faults', async () => {
    emulator.setDisabledActions(['DescribeScript']);
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' });
    await expectRefused(signed({ action: 'DescribeScript', query: { InstanceId: INSTANCE, ScriptId: UNDER_REVIEW }, credential: { ...KEY, accessKeySecret: 'wrong' } }), 404, 'InvalidAction.NotFound');
    await expectRefused(describeScript(UNDER_REVIEW), 404, 'InvalidAction.NotFound');
    await expectRefused(signed({ query: withdrawQuery() }), 503, 'ServiceUnavailable');
  });

  it('reach the official client as its code and status; [] re-enables; reset() keeps them', async () => {
    emulator.setDisabledActions(['QueryScriptsByStatus', 'DescribeScript']);
    emulator.reset();
    const error = await rejection(callAsProject('DescribeScript', { InstanceId: INSTANCE, ScriptId: UNDER_REVIEW }));
    expect(error.code).toBe('InvalidAction.NotFound');
    expect(error.data?.['statusCode']).toBe(404);
    emulator.setDisabledActions([]);
    expect((await sendJson(describeScript(UNDER_REVIEW))).status).toBe(200);
    expect((await callApi(officialClient(KEY), withdrawQuery())).body['Success']).toBe(true);
  });

  it('can be set when starting the emulator', async () => {
    const other = await startEmulator({ credentials: [KEY], disabledActions: ['QueryScriptsByStatus'] });
    try {
      other.addInstance(INSTANCE, many);
      const error = await rejection(callAsProject('QueryScriptsByStatus', sdkQuery({ InstanceId: INSTANCE, StatusList: REVIEW_STATES }), other.endpoint));
      expect(error.code).toBe('InvalidAction.NotFound');
      const listed = await callAsProject('ListScripts', { InstanceId: INSTANCE }, other.endpoint);
      expect((listed.body['Scripts'] as ScriptsPage).TotalCount).toBe(many.length);
      expect(other.requests.map((r) => r.action)).toEqual(['QueryScriptsByStatus', 'ListScripts']);
    } finally {
      await other.close();
    }
  });
});
