/**
 * The listing's pages: reading one answer defensively, and collecting pages until the end
 * while checking that they add up. Offset paging over a list that changes, or a server that
 * ignores PageNumber, gives pages that overlap or leave gaps; the run must say so rather than
 * report a partial listing as the whole instance.
 *
 * @module
 */
import { isRecord } from '../core/records';
import type { ApiBody } from '../outboundbot/client';

/** A script as far as the cleanup cares; fields the answer lacks stay undefined and never match. */
export interface ListedScript {
  ScriptId: string;
  ScriptName?: string;
  Status?: string;
  /** Epoch ms. */
  UpdateTime?: number;
}

export interface ScriptPage {
  /** Undefined when the answer does not say; paging then runs until an empty page. */
  TotalCount: number | undefined;
  /** The page size the server says it used; undefined when it does not say (then the one asked for). */
  PageSize: number | undefined;
  List: ListedScript[];
}

/** Why the listing stopped short: the last failure of the page that could not be read. */
export interface ListingFailure {
  Code: string;
  Message: string;
  /** The upstream status; undefined when no answer arrived. */
  HttpStatusCode: number | undefined;
  RequestId: string | undefined;
  PageNumber: number;
  Attempts: number;
}

export type PageOutcome = { ok: true; page: ScriptPage } | { ok: false; failure: ListingFailure };

/** One way the pages did not add up; a listing with any is not complete. At most one of each Code. */
export interface ListingIssue {
  Code: 'RepeatedPage' | 'DuplicateScripts' | 'ShortPage' | 'TotalCountNotReached' | 'TotalCountMoved' | 'PageLimit' | 'ListingCut';
  /** The page it was first seen on. */
  PageNumber: number;
  Message: string;
}

/** Where the listing hands each script the first time its ScriptId is met: the selection keeps what it needs, not the whole instance. */
export interface ScriptSink {
  take(script: ListedScript): void;
}

export type CollectedPages =
  | { ok: true; /** Distinct ScriptIds listed. */ listed: number; pages: number; totalCount: number | undefined; issues: ListingIssue[] }
  | { ok: false; failure: ListingFailure; pages: number };

/** The API's largest page: fewest round trips. */
export const LIST_PAGE_SIZE = 100;
/** 100 000 scripts: far past any real instance, so only a misbehaving server reaches it. */
export const MAX_LIST_PAGES = 1_000;

/**
 * The pages read so far, each ScriptId counted once (its first copy handed to the sink), and what
 * did not add up. A page is expected to bring only new ScriptIds, and to be full unless it
 * is the last; the last TotalCount announced is the one the count must reach.
 */
class PageTally {
  readonly #seen = new Set<string>();
  readonly #issues: ListingIssue[] = [];
  #totalCount: number | undefined;
  /** The first TotalCount announced, and on which page: a later page saying otherwise means the list moved under the paging. */
  #firstTotal: { count: number; pageNumber: number } | undefined;
  #duplicates = 0;
  #firstDuplicatePage = 0;
  /** The first page shorter than its size, until a later page shows it was not the last. */
  #short: { pageNumber: number; size: number; expected: number } | undefined;

  constructor(readonly sink: ScriptSink) {}

  /** Takes in one page; false when the listing is at its end or cannot usefully go on. */
  add(pageNumber: number, page: ScriptPage): boolean {
    if (page.TotalCount !== undefined) this.#totalCount = page.TotalCount;
    this.#totalMoved(pageNumber, page.TotalCount);
    if (page.List.length === 0) return false;
    this.#shortPageWasNotLast(pageNumber);
    const added = this.#keepNew(page.List);
    const repeated = page.List.length - added;
    if (added === 0) {
      // Asking for the next page would bring the same again: PageNumber is being ignored.
      this.#note('RepeatedPage', pageNumber, `page ${pageNumber} brought only ScriptIds already listed; the server seems to ignore PageNumber`);
      return false;
    }
    if (repeated > 0 && this.#duplicates === 0) this.#firstDuplicatePage = pageNumber;
    this.#duplicates += repeated;
    if (this.#totalCount !== undefined && this.#seen.size >= this.#totalCount) return false;
    const expected = page.PageSize ?? LIST_PAGE_SIZE;
    if (page.List.length < expected) this.#short ??= { pageNumber, size: page.List.length, expected };
    return true;
  }

  /** The listing after `pages` pages, cut short by the time: what was read, and that it was cut. */
  cut(pages: number): CollectedPages {
    this.#note('ListingCut', pages + 1, `stopped after ${pages} pages, at the listing's share of the run's time; the pages not read wait for the next run`);
    const result = this.result(pages, false);
    // A TotalCount not reached is what a cut means, not a second problem.
    return result.ok ? { ...result, issues: result.issues.filter((issue) => issue.Code !== 'TotalCountNotReached') } : result;
  }

  /** The listing after `pages` pages; `stoppedEarly` when the page limit, not the end, stopped it. */
  result(pages: number, stoppedEarly: boolean): CollectedPages {
    const size = this.#seen.size;
    if (this.#duplicates > 0) {
      const message = `${this.#duplicates} listed entries repeated a ScriptId already listed (each script counted once): the list shifted while it was paged`;
      this.#note('DuplicateScripts', this.#firstDuplicatePage, message);
    }
    if (stoppedEarly) this.#note('PageLimit', pages, `stopped after ${MAX_LIST_PAGES} pages without reaching the end`);
    if (this.#totalCount !== undefined && size < this.#totalCount) {
      this.#note('TotalCountNotReached', pages, `listed ${size} scripts of the ${this.#totalCount} that the last page's TotalCount announced`);
    }
    return { ok: true, listed: size, pages, totalCount: this.#totalCount, issues: [...this.#issues] };
  }

  #keepNew(list: readonly ListedScript[]): number {
    const before = this.#seen.size;
    for (const script of list) {
      if (this.#seen.has(script.ScriptId)) continue;
      this.#seen.add(script.ScriptId);
      this.sink.take(script);
    }
    return this.#seen.size - before;
  }

  /**
   * Offset paging over a list that shrank skips scripts at the page boundaries, and one that grew
   * repeats them: with the count listed matching the last TotalCount, a moved count is the only
   * sign that a stale review went unlisted.
   */
  #totalMoved(pageNumber: number, totalCount: number | undefined): void {
    if (totalCount === undefined) return;
    const first = (this.#firstTotal ??= { count: totalCount, pageNumber });
    if (totalCount === first.count) return;
    const message = `TotalCount went from ${first.count} (page ${first.pageNumber}) to ${totalCount} (page ${pageNumber}): the list changed while it was paged, so scripts may have crossed a page boundary unlisted`;
    this.#note('TotalCountMoved', pageNumber, message);
  }

  /** A short page followed by more: entries went missing between the two (or the server pages oddly). */
  #shortPageWasNotLast(pageNumber: number): void {
    const short = this.#short;
    if (!short) return;
    this.#short = undefined;
    this.#note('ShortPage', short.pageNumber, `page ${short.pageNumber} held ${short.size} of ${short.expected} scripts, yet page ${pageNumber} held more`);
  }

  /** One issue of each kind, the first seen: enough to tell the operator, bounded whatever the server does. */
  #note(Code: ListingIssue['Code'], PageNumber: number, Message: string): void {
    if (!this.#issues.some((issue) => issue.Code === Code)) this.#issues.push({ Code, PageNumber, Message });
  }
}

/**
 * Pages from 1 until TotalCount scripts are in hand, a page comes back empty, or a page adds
 * no new ScriptId (a server ignoring PageNumber would otherwise be asked for the same page
 * forever); at most {@link MAX_LIST_PAGES}. A script on two pages counts once. Whatever did
 * not add up is in `issues`: the listing is still returned, since what it handed on is real.
 * When `outOfTime` says so before a page, or a page fails for lack of time, the pages read so
 * far are the listing (a `ListingCut` issue): a run withdraws from what it read rather than nothing.
 */
export async function collectPages(fetchPage: (pageNumber: number) => Promise<PageOutcome>, sink: ScriptSink, outOfTime: () => boolean = () => false): Promise<CollectedPages> {
  const tally = new PageTally(sink);
  for (let pageNumber = 1; pageNumber <= MAX_LIST_PAGES; pageNumber++) {
    if (pageNumber > 1 && outOfTime()) return tally.cut(pageNumber - 1);
    const outcome = await fetchPage(pageNumber);
    if (!outcome.ok) return pageNumber > 1 && outcome.failure.Code === 'DeadlineExceeded' ? tally.cut(pageNumber - 1) : { ok: false, failure: outcome.failure, pages: pageNumber };
    if (!tally.add(pageNumber, outcome.page)) return tally.result(pageNumber, false);
  }
  return tally.result(MAX_LIST_PAGES, true);
}

/** The API documents numbers; a gateway in between may have turned them into strings. */
function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  return undefined;
}

/** Entries without a ScriptId can be neither told apart nor withdrawn, so they are left out. */
function toListedScript(entry: unknown): ListedScript[] {
  if (!isRecord(entry) || typeof entry.ScriptId !== 'string' || entry.ScriptId === '') return [];
  return [
    {
      ScriptId: entry.ScriptId,
      ScriptName: typeof entry.ScriptName === 'string' ? entry.ScriptName : undefined,
      Status: typeof entry.Status === 'string' ? entry.Status : undefined,
      UpdateTime: toInteger(entry.UpdateTime),
    },
  ];
}

/** `Scripts{TotalCount, PageSize, List[]}` (ListScripts and QueryScriptsByStatus alike); undefined when not shaped like a page. */
export function readScriptPage(body: ApiBody): ScriptPage | undefined {
  const scripts = body.Scripts;
  if (!isRecord(scripts) || !Array.isArray(scripts.List)) return undefined;
  const pageSize = toInteger(scripts.PageSize);
  return { TotalCount: toInteger(scripts.TotalCount), PageSize: pageSize && pageSize > 0 ? pageSize : undefined, List: scripts.List.flatMap(toListedScript) };
}
