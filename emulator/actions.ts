/**
 * The OutboundBot API actions the emulator serves, over the script state. Each reads its
 * parameters the way the official SDK sends them (every field in the query, arrays as RPC
 * repeat lists) and answers in the shape of the SDK's response models.
 *
 * @module
 */
import { errorAnswer, okAnswer, type ActionHandler, type Body, type Params } from './answers';
import { pageWindow } from './paging-faults';
import type { ScriptStore } from './script-store';
import type { EmulatorScript, PagingFault } from './types';

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

/** Review state → the state a withdrawal returns the script to. */
const WITHDRAWN_STATUS: Readonly<Record<string, string>> = {
  EXAMINE_IN_PROGRESS: 'DRAFTED',
  PUBLISHED_AND_EXAMINE_IN_PROGRESS: 'PUBLISHED',
};

/** The script states the QueryScriptsByStatus API page lists as valid `StatusList` values. */
const SCRIPT_STATUSES: ReadonlySet<string> = new Set([
  'DRAFTED',
  'INITIALIZE_IN_PROGRESS',
  'PUBLISHED',
  'PUBLISH_IN_PROGRESS',
  'ROLLBACK_IN_PROGRESS',
  'EXAMINE_IN_PROGRESS',
  'PUBLISHED_AND_EXAMINE_IN_PROGRESS',
  'PUBLISH_FAILED',
  'ROLLBACK_FAILED',
  'IMPORT_IN_PROGRESS',
  'IMPORT_FAILED',
]);

/** Thrown by parameter and lookup checks so that each action reads as its happy path. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function refuse(status: number, code: string, message: string): never {
  throw new Refusal(status, code, message);
}

/**
 * The action table; each handler answers OutboundBot's success envelope or the refusal.
 * `pagingFault` is read at each listing request, so a test can set and clear it at any time.
 */
export function createActions(store: ScriptStore, now: () => number, pagingFault: () => PagingFault | undefined): Readonly<Record<string, ActionHandler>> {
  const actions: Record<string, (params: Params) => Body> = {
    WithdrawScriptReview: (params) => withdrawScriptReview(store, now, params),
    DescribeScript: (params) => ({ Script: { ...findScript(store, params).script } }),
    ListScripts: (params) => listScripts(store, params, pagingFault()),
    QueryScriptsByStatus: (params) => queryScriptsByStatus(store, params, pagingFault()),
  };
  return Object.fromEntries(Object.entries(actions).map(([name, run]) => [name, answering(run)]));
}

function answering(run: (params: Params) => Body): ActionHandler {
  return (params, requestId) => {
    try {
      return okAnswer(requestId, run(params));
    } catch (error) {
      if (error instanceof Refusal) return errorAnswer(error.status, error.code, error.message, requestId);
      throw error;
    }
  };
}

/**
 * Scripts not under review are refused with `OperationDenied.ScriptNotUnderReview`: the API
 * page lists no code for this case, so that code is the emulator's choice.
 */
function withdrawScriptReview(store: ScriptStore, now: () => number, params: Params): Body {
  const { instanceId, script } = findScript(store, params);
  const next =
    WITHDRAWN_STATUS[script.Status] ??
    refuse(
      400,
      'OperationDenied.ScriptNotUnderReview',
      `The script is not under review (Status ${script.Status}); only ${Object.keys(WITHDRAWN_STATUS).join(' and ')} can be withdrawn.`,
    );
  script.Status = next;
  script.UpdateTime = now();
  store.countWithdrawal(instanceId, script.ScriptId);
  return { Script: { ...script } };
}

function listScripts(store: ScriptStore, params: Params, fault: PagingFault | undefined): Body {
  const instanceId = required(params, 'InstanceId');
  const paging = readPaging(params);
  return pageOf([...instanceScripts(store, instanceId).values()], paging, fault);
}

/** ListScripts restricted to the given states; the checks run in the same order. */
function queryScriptsByStatus(store: ScriptStore, params: Params, fault: PagingFault | undefined): Body {
  const instanceId = required(params, 'InstanceId');
  const paging = readPaging(params);
  const statuses = readStatusList(params);
  return pageOf([...instanceScripts(store, instanceId).values()].filter((s) => statuses.has(s.Status)), paging, fault);
}

function findScript(store: ScriptStore, params: Params): { instanceId: string; script: EmulatorScript } {
  const instanceId = required(params, 'InstanceId');
  const scriptId = required(params, 'ScriptId');
  const script = instanceScripts(store, instanceId).get(scriptId) ?? refuse(404, 'NotExist.Script', 'The specified Script does not exist.');
  return { instanceId, script };
}

function instanceScripts(store: ScriptStore, instanceId: string): ReadonlyMap<string, EmulatorScript> {
  return store.instance(instanceId) ?? refuse(404, 'NotExist.Instance', 'The specified Instance does not exist.');
}

/** The gateway's `Missing<Name>` for an absent or empty required parameter. */
function required(params: Params, name: string): string {
  return params[name] || refuse(400, `Missing${name}`, `${name} is mandatory for this action.`);
}

interface Paging {
  pageNumber: number;
  pageSize: number;
}

/** PageSize above the maximum is clamped, as the gateway does, rather than refused. */
function readPaging(params: Params): Paging {
  const pageNumber = positiveInteger(params, 'PageNumber', 1);
  const pageSize = positiveInteger(params, 'PageSize', DEFAULT_PAGE_SIZE);
  return { pageNumber, pageSize: Math.min(pageSize, MAX_PAGE_SIZE) };
}

function positiveInteger(params: Params, name: string, fallback: number): number {
  const value = params[name];
  if (value === undefined || value === '') return fallback;
  if (!/^[1-9]\d{0,8}$/.test(value)) refuse(400, 'InvalidParameter', `${name} must be a positive integer: ${value}.`);
  return Number(value);
}

function pageOf(scripts: EmulatorScript[], paging: Paging, fault: PagingFault | undefined): Body {
  const { start, pageNumber, totalCount } = pageWindow(scripts.length, paging.pageNumber, paging.pageSize, fault);
  const List = scripts.slice(start, start + paging.pageSize).map((s) => ({ ...s }));
  return { Scripts: { TotalCount: totalCount, PageNumber: pageNumber, PageSize: paging.pageSize, List } };
}

/**
 * The official SDK sends `StatusList` as an RPC repeat list, `StatusList.1=…&StatusList.2=…`
 * (`OpenApiUtil.query` flattens arrays so). Anything else — a bare or JSON `StatusList`, a
 * gap in the numbering, an empty or unknown state — is refused, so a client that encodes it
 * differently fails against the emulator rather than in production. The API page lists no
 * error codes for this action: `InvalidParameter` is our choice.
 */
function readStatusList(params: Params): ReadonlySet<string> {
  const count = Object.keys(params).filter((key) => key === 'StatusList' || key.startsWith('StatusList.')).length;
  if (count === 0) refuse(400, 'InvalidParameter', 'StatusList is mandatory for this action, as StatusList.1, StatusList.2, ….');
  const statuses = new Set<string>();
  for (let n = 1; n <= count; n++) {
    const status = params[`StatusList.${n}`];
    if (status === undefined) refuse(400, 'InvalidParameter', `StatusList must be sent as StatusList.1 … StatusList.${count}; StatusList.${n} is missing.`);
    if (!SCRIPT_STATUSES.has(status)) refuse(400, 'InvalidParameter', `StatusList.${n} is not a script status: ${JSON.stringify(status)}.`);
    statuses.add(status);
  }
  return statuses;
}
