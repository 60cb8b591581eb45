/**
 * Paging faults: a listing server that does not page consistently, so that a client's check
 * that its pages add up can be tested against real HTTP. They change only how a page of
 * `ListScripts` or `QueryScriptsByStatus` is cut and what it says about itself, never the
 * script state. Off unless a test sets one (`setPagingFault`).
 *
 * @module
 */
import type { PagingFault } from './types';

/** Which slice of the (filtered) list a page answers, and the numbers it reports. */
export interface PageWindow {
  start: number;
  pageNumber: number;
  totalCount: number;
}

/** Where page `pageNumber` of `pageSize` starts in a list of `total`, with or without a fault. */
export function pageWindow(total: number, pageNumber: number, pageSize: number, fault: PagingFault | undefined): PageWindow {
  switch (fault?.kind) {
    case undefined:
      return { start: (pageNumber - 1) * pageSize, pageNumber, totalCount: total };
    case 'ignore-page-number':
      // Always the first page, and it says so: only the ScriptIds give it away.
      return { start: 0, pageNumber: 1, totalCount: total };
    case 'growing-total': {
      // Page n is cut as if perPage·(n−1) scripts had been created at the head of the list
      // since page 1: the count grows and the list shifts back, so each page repeats the
      // tail of the one before, and the new scripts sit on pages already read.
      const inserted = fault.perPage * (pageNumber - 1);
      return { start: Math.max(0, (pageNumber - 1) * pageSize - inserted), pageNumber, totalCount: total + inserted };
    }
    case 'shrinking-total': {
      const removed = fault.perPage * (pageNumber - 1);
      return { start: (pageNumber - 1) * pageSize + removed, pageNumber, totalCount: Math.max(0, total - removed) };
    }
  }
}

/** @throws RangeError for a `growing-total` whose `perPage` is not a positive integer. */
export function checkPagingFault(fault: PagingFault | undefined): PagingFault | undefined {
  if ((fault?.kind === 'growing-total' || fault?.kind === 'shrinking-total') && !(Number.isInteger(fault.perPage) && fault.perPage > 0)) {
    throw new RangeError(`perPage must be a positive integer, got ${fault.perPage}`);
  }
  return fault && { ...fault };
}
