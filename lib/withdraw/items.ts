import * as z from 'zod/mini';
import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';
import { zodIssues } from '../core/zod-issues';
import { idSchema } from '../outboundbot/ids';
import type { WithdrawalItem } from './withdraw-item';

export interface WithdrawalRequest {
  items: WithdrawalItem[];
  /** True for `{"Items": [...]}`, answered as a batch even when it holds one item. */
  batch: boolean;
  /** Per-request callback target; only honoured for hosts in CALLBACK_ALLOWED_HOSTS. */
  callbackUrl?: string;
}

export const MAX_BATCH_ITEMS = 100;

const itemSchema = z.object({ InstanceId: idSchema, ScriptId: idSchema });

const callbackUrl = z.optional(z.url({ error: 'must be an absolute URL' }).check(z.maxLength(2048, 'must be at most 2048 characters')));

const singleSchema = z.extend(itemSchema, { CallbackUrl: callbackUrl });

const batchSchema = z.object({
  Items: z
    .array(itemSchema, { error: 'must be an array of {InstanceId, ScriptId}' })
    .check(z.minLength(1, 'must hold at least one item'), z.maxLength(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} items`)),
  CallbackUrl: callbackUrl,
});

/** One item or `{"Items": [...]}`; throws InvalidParameterError naming each bad field. */
export function parseWithdrawalRequest(payload: unknown): WithdrawalRequest {
  if (!isRecord(payload)) {
    throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId, or Items' }]);
  }
  if ('Items' in payload) {
    const parsed = batchSchema.safeParse(payload);
    if (!parsed.success) throw new InvalidParameterError(zodIssues(parsed.error));
    return { items: parsed.data.Items.map(pickIds), batch: true, callbackUrl: parsed.data.CallbackUrl };
  }
  const parsed = singleSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidParameterError(zodIssues(parsed.error));
  return { items: [pickIds(parsed.data)], batch: false, callbackUrl: parsed.data.CallbackUrl };
}

/** A single item only (one event = one withdrawal). */
export function parseWithdrawalItem(payload: unknown): WithdrawalItem {
  const parsed = itemSchema.safeParse(payload);
  if (!parsed.success) {
    if (!isRecord(payload)) {
      throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId' }]);
    }
    throw new InvalidParameterError(zodIssues(parsed.error));
  }
  return pickIds(parsed.data);
}

function pickIds(value: WithdrawalItem): WithdrawalItem {
  return { InstanceId: value.InstanceId, ScriptId: value.ScriptId };
}
