/**
 * Paging faults: ListScripts and QueryScriptsByStatus cut pages that do not add up, for
 * testing a client's check of its listing. Off by default; they never touch the scripts.
 */
import OpenApiUtil from '@alicloud/openapi-util';
import { describe, expect, it } from 'vitest';
import type { EmulatorScript } from '../../emulator/outboundbot';
import { checkPagingFault, pageWindow } from '../../emulator/paging-faults';
import { INSTANCE, emulator, scriptFixture, sendJson, signed, useEmulator } from './harness';

useEmulator();

interface ScriptsPage {
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
  List: EmulatorScript[];
}

/** 25 scripts, every other one under review: 13 under review. */
const many = Array.from({ length: 25 }, (_, i) => scriptFixture(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, i % 2 ? 'DRAFTED' : 'EXAMINE_IN_PROGRESS'));
const underReview = many.filter((s) => s.Status === 'EXAMINE_IN_PROGRESS');

async function page(action: 'ListScripts' | 'QueryScriptsByStatus', PageNumber: number, PageSize = 10): Promise<ScriptsPage> {
  const filter = action === 'QueryScriptsByStatus' ? { StatusList: ['EXAMINE_IN_PROGRESS'] } : {};
  const { status, body } = await sendJson(signed({ action, query: OpenApiUtil.query({ InstanceId: INSTANCE, PageNumber, PageSize, ...filter }) }));
  expect(status).toBe(200);
  return body['Scripts'] as ScriptsPage;
}

const ids = (scripts: readonly EmulatorScript[]) => scripts.map((s) => s.ScriptId);

describe('paging faults', () => {
  it('are off by default: pages follow one another and add up', async () => {
    emulator.addInstance(INSTANCE, many);
    const pages = [await page('ListScripts', 1), await page('ListScripts', 2), await page('ListScripts', 3)];
    expect(pages.map((p) => [p.PageNumber, p.TotalCount, p.List.length])).toEqual([
      [1, 25, 10],
      [2, 25, 10],
      [3, 25, 5],
    ]);
    expect(pages.flatMap((p) => ids(p.List))).toEqual(ids(many));
  });

  it('ignore-page-number: every page is page 1, for both listing actions', async () => {
    emulator.addInstance(INSTANCE, many);
    emulator.setPagingFault({ kind: 'ignore-page-number' });
    for (const n of [1, 2, 3]) expect(await page('ListScripts', n)).toEqual({ TotalCount: 25, PageNumber: 1, PageSize: 10, List: many.slice(0, 10) });
    expect(await page('QueryScriptsByStatus', 2)).toEqual({ TotalCount: 13, PageNumber: 1, PageSize: 10, List: underReview.slice(0, 10) });
  });

  it('growing-total: each page counts perPage more and repeats the last perPage of the page before', async () => {
    emulator.addInstance(INSTANCE, many);
    emulator.setPagingFault({ kind: 'growing-total', perPage: 2 });
    const pages = [await page('ListScripts', 1), await page('ListScripts', 2), await page('ListScripts', 3)];
    expect(pages.map((p) => [p.PageNumber, p.TotalCount])).toEqual([
      [1, 25],
      [2, 27],
      [3, 29],
    ]);
    expect(ids(pages[1]!.List)).toEqual(ids(many.slice(8, 18)));
    expect(ids(pages[2]!.List)).toEqual(ids(many.slice(16, 25)));
    const byStatus = await page('QueryScriptsByStatus', 2, 5);
    expect([byStatus.TotalCount, ids(byStatus.List)]).toEqual([15, ids(underReview.slice(3, 8))]);
  });

  it('never change the scripts; reset() and undefined turn them off', async () => {
    emulator.addInstance(INSTANCE, many);
    emulator.setPagingFault({ kind: 'growing-total', perPage: 3 });
    await page('ListScripts', 2);
    expect(emulator.script(INSTANCE, many[0]!.ScriptId)).toEqual(many[0]);
    emulator.reset();
    expect(await page('ListScripts', 2)).toMatchObject({ TotalCount: 25, PageNumber: 2, List: many.slice(10, 20) });
    emulator.setPagingFault({ kind: 'ignore-page-number' });
    emulator.setPagingFault(undefined);
    expect((await page('ListScripts', 3)).List).toEqual(many.slice(20));
  });

  it('refuse a growth that is not a positive integer, keeping the fault that was set', async () => {
    emulator.addInstance(INSTANCE, many);
    emulator.setPagingFault({ kind: 'ignore-page-number' });
    for (const perPage of [0, -1, 1.5, Number.NaN]) {
      expect(() => emulator.setPagingFault({ kind: 'growing-total', perPage }), `perPage ${perPage}`).toThrow(RangeError);
    }
    expect((await page('ListScripts', 2)).PageNumber).toBe(1);
  });

  it('pageWindow never starts before the list; the fault is copied when set', () => {
    expect(pageWindow(5, 2, 10, { kind: 'growing-total', perPage: 50 })).toEqual({ start: 0, pageNumber: 2, totalCount: 55 });
    const fault = { kind: 'growing-total' as const, perPage: 1 };
    const kept = checkPagingFault(fault);
    fault.perPage = 7;
    expect(kept).toEqual({ kind: 'growing-total', perPage: 1 });
  });
});
