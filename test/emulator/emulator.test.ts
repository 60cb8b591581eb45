import { RuntimeOptions } from '@alicloud/tea-util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAcsDate, parseAuthorization, signRequest, verifyRequest } from '../../emulator/acs3';
import { API_VERSION, seedDemo, type EmulatorCredential, type EmulatorScript } from '../../emulator/outboundbot';
import {
  DRAFTED,
  INSTANCE,
  KEY,
  PUBLISHED_UNDER_REVIEW,
  UNDER_REVIEW,
  UUID_UPPER,
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
  waitFor,
  withdrawQuery,
} from './harness';

useEmulator();

// ---------- tests ----------

describe('official @alicloud/openapi-client against the emulator', () => {
  it('withdraws a script under review and answers in the API page shape', async () => {
    const response = await callApi(officialClient(KEY), withdrawQuery());

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      HttpStatusCode: 200,
      Code: 'OK',
      Message: 'Success',
      RequestId: expect.stringMatching(UUID_UPPER),
      Success: true,
      Script: { ...scriptFixture(UNDER_REVIEW, 'DRAFTED'), UpdateTime: nowMs },
    });
    expect(emulator.script(INSTANCE, UNDER_REVIEW)?.Status).toBe('DRAFTED');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(1);
    expect(emulator.requests).toEqual([
      { action: 'WithdrawScriptReview', query: withdrawQuery(), accessKeyId: KEY.accessKeyId, status: 200, code: 'OK', atMs: nowMs },
    ]);
  });

  it('returns PUBLISHED_AND_EXAMINE_IN_PROGRESS to PUBLISHED', async () => {
    await callApi(officialClient(KEY), withdrawQuery(PUBLISHED_UNDER_REVIEW));
    expect(emulator.script(INSTANCE, PUBLISHED_UNDER_REVIEW)?.Status).toBe('PUBLISHED');
  });

  it('accepts STS credentials, token and all', async () => {
    const sts = { accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2MTC', accessKeySecret: 'sts-secret', securityToken: 'CAIS-token+/=', expiresAtMs: nowMs + 3_600_000 };
    emulator.addCredential(sts);
    const response = await callApi(officialClient(sts), withdrawQuery());
    expect(response.body['Success']).toBe(true);
  });

  it('refuses a wrong secret with SignatureDoesNotMatch and changes nothing', async () => {
    const error = await rejection(callApi(officialClient({ ...KEY, accessKeySecret: 'wrong' }), withdrawQuery()));

    expect(error.code).toBe('SignatureDoesNotMatch');
    expect(error.data?.['statusCode']).toBe(400);
    expect(emulator.script(INSTANCE, UNDER_REVIEW)?.Status).toBe('EXAMINE_IN_PROGRESS');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
  });

  it('refuses a script that is not under review and leaves it alone', async () => {
    const error = await rejection(callApi(officialClient(KEY), withdrawQuery(DRAFTED)));

    expect(error.code).toBe('OperationDenied.ScriptNotUnderReview');
    expect(error.data?.['statusCode']).toBe(400);
    expect(emulator.script(INSTANCE, DRAFTED)).toEqual(scriptFixture(DRAFTED, 'DRAFTED'));
  });

  it('refuses a second withdrawal of the same script (it is no longer under review)', async () => {
    const client = officialClient(KEY);
    await callApi(client, withdrawQuery());
    const error = await rejection(callApi(client, withdrawQuery()));
    expect(error.code).toBe('OperationDenied.ScriptNotUnderReview');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(1);
  });

  it('verifies arbitrary query values exactly as the client puts them on the wire', async () => {
    const client = officialClient(KEY);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 24 }), async (scriptId) => {
        const error = await rejection(callApi(client, { InstanceId: INSTANCE, ScriptId: `${scriptId}#` }));
        expect(error.code).toBe('NotExist.Script');
      }),
      { numRuns: 40, examples: [["a b+c!'()*~é/?&=%20"]] },
    );
  });
});

describe('authentication', () => {
  it('signRequest + a raw node:http request succeeds (the benchmark floor)', async () => {
    const { status, body } = await sendJson(signed({ query: withdrawQuery() }));
    expect(status).toBe(200);
    expect(body['Success']).toBe(true);
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(1);
  });

  it('accepts GET and parameters in a signed form body', async () => {
    const { status } = await sendJson(signed({ method: 'GET', action: 'ListScripts', query: { InstanceId: INSTANCE } }));
    expect(status).toBe(200);
    const formPost = await sendJson(signed({ query: {}, form: withdrawQuery() }));
    expect(formPost.body['Success']).toBe(true);
  });

  it('refuses a replayed request (same bytes twice) with SignatureNonceUsed', async () => {
    const request = signed({ query: withdrawQuery() });
    expect((await send(request)).status).toBe(200);
    await expectRefused(request, 400, 'SignatureNonceUsed');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(1);
  });

  it('does not burn a nonce on a request whose signature fails', async () => {
    const good = signed({ query: withdrawQuery() });
    // Two first characters that differ from the real signature's, so that neither forgery is the original.
    const [first, second] = ['0', '1', '2'].filter((c) => !good.headers['authorization']!.includes(`Signature=${c}`));
    const forged = { ...good, headers: { ...good.headers, authorization: good.headers['authorization']!.replace(/Signature=\w/, `Signature=${first}`) } };
    const forgedAgain = { ...forged, headers: { ...forged.headers, authorization: forged.headers['authorization']!.replace(/Signature=\w/, `Signature=${second}`) } };
    await expectRefused(forged, 400, 'SignatureDoesNotMatch');
    await expectRefused(forgedAgain, 400, 'SignatureDoesNotMatch');
    expect((await send(good)).status).toBe(200);
  });

  it('refuses a query tampered with after signing', async () => {
    const request = signed({ query: withdrawQuery() });
    const tampered = { ...request, path: request.path.replace(UNDER_REVIEW, PUBLISHED_UNDER_REVIEW) };
    await expectRefused(tampered, 400, 'SignatureDoesNotMatch');
    await expectRefused({ ...request, path: `${request.path}&ScriptId=${DRAFTED}` }, 400, 'SignatureDoesNotMatch');
    expect(emulator.withdrawals(INSTANCE, PUBLISHED_UNDER_REVIEW)).toBe(0);
  });

  it('refuses a body that does not match x-acs-content-sha256', async () => {
    const request = signed({ query: {}, form: withdrawQuery() });
    await expectRefused({ ...request, body: new URLSearchParams(withdrawQuery(PUBLISHED_UNDER_REVIEW)).toString() }, 400, 'InvalidContentSha256');
  });

  it('refuses stale, future and malformed dates', async () => {
    await expectRefused(signed({ query: withdrawQuery(), dateMs: nowMs - 16 * 60_000 }), 400, 'InvalidTimeStamp.Expired');
    await expectRefused(signed({ query: withdrawQuery(), dateMs: nowMs + 16 * 60_000 }), 400, 'InvalidTimeStamp.Expired');
    const request = signed({ query: withdrawQuery() });
    await expectRefused({ ...request, headers: { ...request.headers, 'x-acs-date': new Date(nowMs).toISOString() } }, 400, 'InvalidTimeStamp.Expired');
    expect((await send(signed({ query: withdrawQuery(), dateMs: nowMs - 14 * 60_000 }))).status).toBe(200);
  });

  describe('STS tokens', () => {
    const sts: EmulatorCredential = { accessKeyId: 'STS.test', accessKeySecret: 'sts-secret', securityToken: 'the-token' };

    it('refuses a missing token', async () => {
      emulator.addCredential(sts);
      await expectRefused(signed({ query: withdrawQuery(), credential: { ...sts, securityToken: undefined } }), 400, 'MissingSecurityToken');
    });

    it('refuses a wrong token, and a token sent with a permanent key', async () => {
      emulator.addCredential(sts);
      await expectRefused(signed({ query: withdrawQuery(), credential: sts, securityToken: 'the-tokeN' }), 400, 'InvalidSecurityToken.MismatchWithAccessKey');
      await expectRefused(signed({ query: withdrawQuery(), securityToken: 'stray' }), 400, 'InvalidSecurityToken.MismatchWithAccessKey');
    });

    it('refuses an expired token', async () => {
      emulator.addCredential({ ...sts, expiresAtMs: nowMs - 1 });
      await expectRefused(signed({ query: withdrawQuery(), credential: sts }), 400, 'InvalidSecurityToken.Expired');
    });

    it('refuses a token header left out of the signature', async () => {
      emulator.addCredential(sts);
      const request = signed({ query: withdrawQuery(), credential: { ...sts, securityToken: undefined } });
      await expectRefused({ ...request, headers: { ...request.headers, 'x-acs-security-token': 'the-token' } }, 400, 'IncompleteSignature');
    });
  });

  it('refuses missing, malformed and unknown authorizations', async () => {
    const request = signed({ query: withdrawQuery() });
    const { authorization, ...unsigned } = request.headers;
    await expectRefused({ ...request, headers: unsigned }, 400, 'MissingAuthorization');
    await expectRefused({ ...request, headers: { ...unsigned, authorization: 'Bearer abc' } }, 400, 'IncompleteSignature');
    await expectRefused({ ...request, headers: { ...unsigned, authorization: authorization!.replace(KEY.accessKeyId, 'LTAIunknown') } }, 404, 'InvalidAccessKeyId.NotFound');
    await expectRefused({ ...request, headers: { ...unsigned, authorization: authorization!.replace('host;', '') } }, 400, 'IncompleteSignature');
    expect(emulator.requests.map((r) => r.accessKeyId)).toEqual([undefined, undefined, 'LTAIunknown', KEY.accessKeyId]);
  });
});

describe('routing and WithdrawScriptReview errors', () => {
  it('answers 404 for unknown instances, scripts and actions, 400 for a wrong version or missing ids', async () => {
    await expectRefused(signed({ query: { InstanceId: 'nope', ScriptId: UNDER_REVIEW } }), 404, 'NotExist.Instance');
    await expectRefused(signed({ query: withdrawQuery('nope') }), 404, 'NotExist.Script');
    await expectRefused(signed({ query: withdrawQuery(), action: 'DeleteScript' }), 404, 'InvalidAction.NotFound');
    await expectRefused(signed({ query: { ScriptId: UNDER_REVIEW } }), 400, 'MissingInstanceId');
    await expectRefused(signed({ query: { InstanceId: INSTANCE } }), 400, 'MissingScriptId');
    const request = signed({ query: withdrawQuery() });
    await expectRefused({ ...request, headers: { ...request.headers, 'x-acs-version': '2019-01-01' } }, 400, 'InvalidVersion');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
  });
});

describe('ListScripts', () => {
  const listQuery = (page: Record<string, string>) => signed({ action: 'ListScripts', query: { InstanceId: INSTANCE, ...page } });
  const many = Array.from({ length: 23 }, (_, i) => scriptFixture(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, i % 2 ? 'PUBLISHED' : 'EXAMINE_IN_PROGRESS'));

  it('pages through every script once, in a stable order', async () => {
    emulator.addInstance(INSTANCE, many);
    const seen: string[] = [];
    for (const PageNumber of ['1', '2', '3', '4']) {
      const { body } = await sendJson(listQuery({ PageNumber, PageSize: '10' }));
      expect(body).toMatchObject({ HttpStatusCode: 200, Code: 'OK', Success: true, RequestId: expect.stringMatching(UUID_UPPER) });
      const scripts = body['Scripts'] as { TotalCount: number; PageNumber: number; PageSize: number; List: EmulatorScript[] };
      expect(scripts).toMatchObject({ TotalCount: 23, PageNumber: Number(PageNumber), PageSize: 10 });
      seen.push(...scripts.List.map((s) => s.ScriptId));
    }
    expect(seen).toEqual(many.map((s) => s.ScriptId));
  });

  it('defaults to page 1 of 10, clamps PageSize to 100 and refuses nonsense', async () => {
    emulator.addInstance(INSTANCE, many);
    const first = await sendJson(listQuery({}));
    expect(first.body['Scripts']).toMatchObject({ PageNumber: 1, PageSize: 10, List: many.slice(0, 10) });
    const clamped = await sendJson(listQuery({ PageSize: '500' }));
    expect(clamped.body['Scripts']).toMatchObject({ PageSize: 100, List: many });
    await expectRefused(listQuery({ PageNumber: '0' }), 400, 'InvalidParameter');
    await expectRefused(listQuery({ PageSize: 'ten' }), 400, 'InvalidParameter');
    await expectRefused(signed({ action: 'ListScripts', query: { InstanceId: 'nope' } }), 404, 'NotExist.Instance');
  });
});

describe('faults', () => {
  it('status: answers the code, with retry-after, then recovers', async () => {
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 2 }, { times: 2 });
    for (let i = 0; i < 2; i++) {
      const { status, body, headers } = await sendJson(signed({ query: withdrawQuery() }));
      expect(status).toBe(503);
      expect(headers['retry-after']).toBe('2');
      expect(body).toMatchObject({ Code: 'ServiceUnavailable', HttpStatusCode: 503, Success: false, RequestId: expect.stringMatching(UUID_UPPER) });
    }
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
    expect((await send(signed({ query: withdrawQuery() }))).status).toBe(200);
  });

  it('status: reaches the official client as its code and status', async () => {
    emulator.injectFault({ kind: 'status', status: 429, code: 'Throttling.User' });
    const error = await rejection(callApi(officialClient(KEY), withdrawQuery()));
    expect(error.code).toBe('Throttling.User');
    expect(error.data?.['statusCode']).toBe(429);
  });

  it('applies only after authentication and only to the chosen action, oldest first', async () => {
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { action: 'WithdrawScriptReview' });
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' });
    await expectRefused(signed({ query: withdrawQuery(), credential: { ...KEY, accessKeySecret: 'wrong' } }), 400, 'SignatureDoesNotMatch');
    await expectRefused(signed({ action: 'ListScripts', query: { InstanceId: INSTANCE } }), 503, 'ServiceUnavailable');
    await expectRefused(signed({ query: withdrawQuery() }), 500, 'InternalError');
    expect((await send(signed({ query: withdrawQuery() }))).status).toBe(200);
  });

  it('reset: the connection drops and nothing changes', async () => {
    emulator.injectFault({ kind: 'reset' });
    const error = await rejection(callApi(officialClient(KEY), withdrawQuery()));
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 0, code: '' });
  });

  it('hang: no answer until the client times out; close() still returns promptly', async () => {
    emulator.injectFault({ kind: 'hang' });
    const error = await rejection(callApi(officialClient(KEY), withdrawQuery(), new RuntimeOptions({ readTimeout: 200 })));
    expect(error.message).toMatch(/ReadTimeout/);
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);

    emulator.injectFault({ kind: 'hang' });
    const pending = send(signed({ query: withdrawQuery() }));
    pending.catch(() => undefined);
    await waitFor(() => emulator.requests.length === 2);
    const startedMs = performance.now();
    await emulator.close();
    expect(performance.now() - startedMs).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });

  it('delay: the withdrawal happens at once, the answer comes late', async () => {
    emulator.injectFault({ kind: 'delay', ms: 150 });
    const startedMs = performance.now();
    const pending = sendJson(signed({ query: withdrawQuery() }));
    await waitFor(() => emulator.withdrawals(INSTANCE, UNDER_REVIEW) === 1);
    const { status } = await pending;
    expect(status).toBe(200);
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(140);
  });

  it('non-json: 200 with an HTML page the client cannot parse', async () => {
    emulator.injectFault({ kind: 'non-json' }, { times: 2 });
    const res = await send(signed({ query: withdrawQuery() }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html');
    expect(res.text).toMatch(/<html>/);
    await expect(callApi(officialClient(KEY), withdrawQuery())).rejects.toThrow();
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
  });

  it('success-false: a 2xx that says it failed', async () => {
    emulator.injectFault({ kind: 'success-false' });
    const response = await callApi(officialClient(KEY), withdrawQuery());
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ Success: false, HttpStatusCode: 200, Code: 'OperationFailed', RequestId: expect.stringMatching(UUID_UPPER) });
    expect(emulator.script(INSTANCE, UNDER_REVIEW)?.Status).toBe('EXAMINE_IN_PROGRESS');
  });

  it('random faults: one draw per authenticated request, mapped onto reset, 500 and 429 by their rates', async () => {
    const draws = [0.005, 0.03, 0.07, 0.5];
    let drawn = 0;
    emulator.setRandomFaults({ resetRate: 0.01, status500Rate: 0.05, throttleRate: 0.02 }, () => draws[drawn++]!);
    await expect(send(signed({ query: withdrawQuery() }))).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expectRefused(signed({ query: withdrawQuery() }), 500, 'InternalError');
    await expectRefused(signed({ query: withdrawQuery() }), 429, 'Throttling.User');
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(0);
    expect((await sendJson(signed({ query: withdrawQuery() }))).status).toBe(200);
    expect(emulator.withdrawals(INSTANCE, UNDER_REVIEW)).toBe(1);
    expect(emulator.requests.map((r) => [r.status, r.code])).toEqual([
      [0, ''],
      [500, 'InternalError'],
      [429, 'Throttling.User'],
      [200, 'OK'],
    ]);
    expect(drawn).toBe(4);
  });

  it('random faults: refusals and queued faults take no draw; reset() turns them off; bad rates are refused', async () => {
    let drawn = 0;
    emulator.setRandomFaults({ status500Rate: 1 }, () => (drawn++, 0.5));
    await expectRefused(signed({ query: withdrawQuery(), credential: { ...KEY, accessKeySecret: 'wrong' } }), 400, 'SignatureDoesNotMatch');
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' });
    await expectRefused(signed({ query: withdrawQuery() }), 503, 'ServiceUnavailable');
    expect(drawn).toBe(0);
    await expectRefused(signed({ action: 'ListScripts', query: { InstanceId: INSTANCE } }), 500, 'InternalError');
    expect(drawn).toBe(1);
    emulator.reset();
    expect((await send(signed({ query: withdrawQuery() }))).status).toBe(200);
    emulator.setRandomFaults({ status500Rate: 1 });
    emulator.setRandomFaults({ status500Rate: 0 });
    expect((await send(signed({ query: withdrawQuery(PUBLISHED_UNDER_REVIEW) }))).status).toBe(200);
    expect(() => emulator.setRandomFaults({ resetRate: 1.5 })).toThrow(RangeError);
    expect(() => emulator.setRandomFaults({ resetRate: Number.NaN })).toThrow(RangeError);
    expect(() => emulator.setRandomFaults({ resetRate: 0.6, status500Rate: 0.6 })).toThrow(/more than 1/);
  });

  it('latency applies to every answer; reset() forgets faults and the log', async () => {
    emulator.setLatency(60);
    const startedMs = performance.now();
    await send(signed({ query: withdrawQuery('nope') }));
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(55);

    emulator.injectFault({ kind: 'reset' });
    emulator.reset();
    expect(emulator.requests).toHaveLength(0);
    expect((await send(signed({ query: withdrawQuery() }))).status).toBe(200);
  });
});

describe('seedDemo', () => {
  it('installs a credential and withdrawable scripts the official client can act on', async () => {
    const demo = seedDemo(emulator, nowMs);
    const underReview = demo.scripts.filter((s) => s.Status.endsWith('EXAMINE_IN_PROGRESS'));
    expect(underReview.length).toBeGreaterThanOrEqual(2);
    expect(demo.scripts.some((s) => s.Status === 'DRAFTED' || s.Status === 'PUBLISHED')).toBe(true);
    const response = await callApi(officialClient(demo.credential), { InstanceId: demo.instanceId, ScriptId: underReview[0]!.ScriptId });
    expect(response.body['Success']).toBe(true);
  });
});

describe('acs3 signer and verifier (properties)', () => {
  const queryValue = fc.string({ unit: 'binary', maxLength: 40 });
  const singleCharChange = (value: string) =>
    fc
      .tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
      .map(([position, kind, char]) => {
        const chars = Array.from(value);
        const at = chars.length === 0 ? 0 : position % (kind === 'insert' ? chars.length + 1 : chars.length);
        if (kind === 'insert' || chars.length === 0) chars.splice(at, 0, char);
        else if (kind === 'delete') chars.splice(at, 1);
        else chars[at] = chars[at] === char ? (char === 'a' ? 'b' : 'a') : char;
        return chars.join('');
      });

  const sign = (query: Record<string, string>) =>
    signRequest({
      method: 'POST',
      host: '127.0.0.1:9',
      pathname: '/',
      query,
      headers: { 'x-acs-action': 'WithdrawScriptReview', 'x-acs-version': API_VERSION },
      accessKeyId: KEY.accessKeyId,
      accessKeySecret: KEY.accessKeySecret,
    });

  const verify = (headers: Record<string, string>, query: Record<string, string>) =>
    verifyRequest({ method: 'POST', pathname: '/', query, headers, body: new Uint8Array() }, parseAuthorization(headers['authorization']!)!, KEY.accessKeySecret);

  it('accepts exactly what signRequest produced', () => {
    fc.assert(
      fc.property(queryValue, queryValue, (InstanceId, ScriptId) => {
        const query = { InstanceId, ScriptId };
        expect(verify(sign(query), query)).toEqual({ ok: true });
      }),
    );
  });

  it('rejects any single-character change to a signed query value', () => {
    fc.assert(
      fc.property(
        queryValue.chain((value) => fc.tuple(fc.constant(value), singleCharChange(value))),
        ([original, changed]) => {
          const headers = sign({ InstanceId: INSTANCE, ScriptId: original });
          expect(verify(headers, { InstanceId: INSTANCE, ScriptId: changed })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
        },
      ),
    );
  });

  it('round-trips arbitrary values through a real HTTP request', async () => {
    await fc.assert(
      fc.asyncProperty(queryValue, async (tag) => {
        const { status } = await sendJson(signed({ action: 'ListScripts', query: { InstanceId: INSTANCE, Tag: tag } }));
        expect(status).toBe(200);
      }),
      { numRuns: 40 },
    );
  });

  it('stamps x-acs-date to the second in UTC', () => {
    expect(formatAcsDate(Date.UTC(2020, 0, 13, 2, 7, 7, 999))).toBe('2020-01-13T02:07:07Z');
  });
});
