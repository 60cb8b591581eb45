import { InvalidParameterError, type Issue } from '../core/errors';
import { absoluteUrl, prefixPaths, refuse } from '../core/fields';
import { isRecord } from '../core/records';
import { checkId } from '../outboundbot/ids';
import type { WithdrawalItem } from './withdraw-item';

export interface WithdrawalRequest {
  items: WithdrawalItem[];
  /** True for `{"Items": [...]}`, answered as a batch even when it holds one item. */
  batch: boolean;
  /** Per-request callback target; only honoured for hosts in CALLBACK_ALLOWED_HOSTS. */
  callbackUrl?: string;
}

export const MAX_BATCH_ITEMS = 100;
const MAX_CALLBACK_URL_CHARS = 2048;
/** For an `Items` element that is not an object (zod's words were a bare 'Invalid input'). */
const NOT_AN_ITEM = 'must be an object with InstanceId and ScriptId';

/** One item or `{"Items": [...]}`; throws InvalidParameterError naming each bad field. */
export function parseWithdrawalRequest(payload: unknown): WithdrawalRequest {
  if (!isRecord(payload)) {
    throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId, or Items' }]);
  }
  const issues: Issue[] = [];
  const batch = 'Items' in payload;
  const items = batch ? readItems(payload.Items, issues) : readItem(payload, issues);
  const callbackUrl = absoluteUrl(payload.CallbackUrl, 'CallbackUrl', issues, MAX_CALLBACK_URL_CHARS);
  if (items === undefined || issues.length > 0) throw new InvalidParameterError(issues);
  return { items: Array.isArray(items) ? items : [items], batch, callbackUrl };
}

/** A single item only (one event = one withdrawal). */
export function parseWithdrawalItem(payload: unknown): WithdrawalItem {
  if (!isRecord(payload)) {
    throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId' }]);
  }
  const issues: Issue[] = [];
  const item = readItem(payload, issues);
  if (item === undefined) throw new InvalidParameterError(issues);
  return item;
}

/** The two ids, and nothing else the object carries. */
function readItem(value: Record<string, unknown>, issues: Issue[]): WithdrawalItem | undefined {
  const InstanceId = checkId(value.InstanceId, 'InstanceId', issues);
  const ScriptId = checkId(value.ScriptId, 'ScriptId', issues);
  return InstanceId !== undefined && ScriptId !== undefined ? { InstanceId, ScriptId } : undefined;
}

function readItems(value: unknown, issues: Issue[]): WithdrawalItem[] | undefined {
  if (!Array.isArray(value)) return refuse(issues, 'Items', 'must be an array of {InstanceId, ScriptId}');
  // Too many is refused before any element is read: the answer would list them all.
  if (value.length > MAX_BATCH_ITEMS) return refuse(issues, 'Items', `must hold at most ${MAX_BATCH_ITEMS} items`);
  if (value.length === 0) return refuse(issues, 'Items', 'must hold at least one item');
  const elements: readonly unknown[] = value;
  const before = issues.length;
  const items: WithdrawalItem[] = [];
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i];
    if (!isRecord(element)) {
      refuse(issues, `Items[${i}]`, NOT_AN_ITEM);
      continue;
    }
    const from = issues.length;
    const item = readItem(element, issues);
    if (item === undefined) prefixPaths(issues, from, `Items[${i}]`);
    else items.push(item);
  }
  return issues.length === before ? items : undefined;
}
