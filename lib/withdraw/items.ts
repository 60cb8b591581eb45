import * as z from 'zod/mini';
import { InvalidParameterError, type Issue } from '../core/errors';

/** The API's own names. Real ids are UUIDs; the rule is loose enough for any id the console shows. */
export interface WithdrawalItem {
  InstanceId: string;
  ScriptId: string;
}

export interface WithdrawalRequest {
  items: WithdrawalItem[];
  /** True for `{"Items": [...]}`, answered as a batch even when it holds one item. */
  batch: boolean;
  /** Per-request callback target; only honoured for hosts in CALLBACK_ALLOWED_HOSTS. */
  callbackUrl?: string;
}

export const MAX_BATCH_ITEMS = 100;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const id = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).check(
  z.regex(ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit'),
);

const itemSchema = z.object({ InstanceId: id, ScriptId: id });

const callbackUrl = z.optional(z.url({ error: 'must be an absolute URL' }).check(z.maxLength(2048, 'must be at most 2048 characters')));

const singleSchema = z.extend(itemSchema, { CallbackUrl: callbackUrl });

const batchSchema = z.object({
  Items: z
    .array(itemSchema, { error: 'must be an array of {InstanceId, ScriptId}' })
    .check(z.minLength(1, 'must hold at least one item'), z.maxLength(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} items`)),
  CallbackUrl: callbackUrl,
});

function toIssues(error: z.core.$ZodError): Issue[] {
  return error.issues.map((issue) => ({
    Path: issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''),
    Message: issue.message,
  }));
}

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One item or `{"Items": [...]}`; throws InvalidParameterError naming each bad field. */
export function parseWithdrawalRequest(payload: unknown): WithdrawalRequest {
  if (!isRecord(payload)) {
    throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId, or Items' }]);
  }
  if ('Items' in payload) {
    const parsed = batchSchema.safeParse(payload);
    if (!parsed.success) throw new InvalidParameterError(toIssues(parsed.error));
    return { items: parsed.data.Items.map(pickIds), batch: true, callbackUrl: parsed.data.CallbackUrl };
  }
  const parsed = singleSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidParameterError(toIssues(parsed.error));
  return { items: [pickIds(parsed.data)], batch: false, callbackUrl: parsed.data.CallbackUrl };
}

/** A single item only (one event = one withdrawal). */
export function parseWithdrawalItem(payload: unknown): WithdrawalItem {
  const parsed = itemSchema.safeParse(payload);
  if (!parsed.success) {
    if (!isRecord(payload)) {
      throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId' }]);
    }
    throw new InvalidParameterError(toIssues(parsed.error));
  }
  return pickIds(parsed.data);
}

function pickIds(value: WithdrawalItem): WithdrawalItem {
  return { InstanceId: value.InstanceId, ScriptId: value.ScriptId };
}

/** The id rule, for other inputs that name an instance or a script (the cleanup's timer payload). */
export const idSchema = id;
