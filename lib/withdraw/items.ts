import * as z from 'zod/mini';
import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';
import { onFirstUse, parseOrRefuse } from '../core/schema';
import { idSchema } from '../outboundbot/ids';

export const MAX_BATCH_ITEMS = 100;
export const MAX_CALLBACK_URL_CHARS = 2048;
const NOT_AN_ITEM = 'must be an object with InstanceId and ScriptId';
const NOT_A_URL = 'must be an absolute URL';
const TAB_OR_NEWLINE = /[\t\n\r]/g;

/** The two ids, and nothing else the object carries. */
export const itemSchema = onFirstUse(() => z.object({ InstanceId: idSchema(), ScriptId: idSchema() }, { error: NOT_AN_ITEM }));

/**
 * An optional absolute URL of at most 2048 characters (code points), trimmed. The URL parser
 * drops tabs and newlines before it parses; so does the value kept, so the host it names is the
 * host a later parse sees.
 */
export const callbackUrlSchema = onFirstUse(() =>
  z.optional(
    z.string({ error: NOT_A_URL }).check(
      z.overwrite((value) => (URL.canParse(value.trim()) ? value.trim().replace(TAB_OR_NEWLINE, '') : value)),
      z.refine((value) => URL.canParse(value.trim()), NOT_A_URL),
      z.refine((value) => value.length <= MAX_CALLBACK_URL_CHARS || [...value].length <= MAX_CALLBACK_URL_CHARS, `must be at most ${MAX_CALLBACK_URL_CHARS} characters`),
    ),
  ),
);

/** `Items`: too many, or none, is refused before any element is checked (the answer would list them all). */
export const itemsSchema = onFirstUse(() =>
  z.pipe(
    z.pipe(
      z.array(z.unknown(), { error: 'must be an array of {InstanceId, ScriptId}' }),
      // Its own stage: zod runs length checks even on a value that is not an array ('' has a length).
      z.array(z.unknown()).check(z.maxLength(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} items`), z.minLength(1, 'must hold at least one item')),
    ),
    z.array(itemSchema()),
  ),
);

export const singleRequestSchema = onFirstUse(() => z.object({ InstanceId: idSchema(), ScriptId: idSchema(), CallbackUrl: callbackUrlSchema() }));
export const batchRequestSchema = onFirstUse(() => z.object({ Items: itemsSchema(), CallbackUrl: callbackUrlSchema() }));

/** What a withdrawal request asks for: `{InstanceId, ScriptId}` or `{Items: [...]}`, each with an optional CallbackUrl. */
export type WithdrawalItem = z.output<ReturnType<typeof itemSchema>>;

export interface WithdrawalRequest {
  items: WithdrawalItem[];
  /** True for `{"Items": [...]}`, answered as a batch even when it holds one item. */
  batch: boolean;
  /** Per-request callback target; only honoured for hosts in CALLBACK_ALLOWED_HOSTS. */
  callbackUrl?: string;
}

const parsed = <T>(schema: z.ZodMiniType<T>, payload: unknown): T => parseOrRefuse(schema, payload, (issues) => new InvalidParameterError(issues));

/** One item or `{"Items": [...]}`; throws InvalidParameterError naming each bad field. */
export function parseWithdrawalRequest(payload: unknown): WithdrawalRequest {
  if (!isRecord(payload)) {
    throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId, or Items' }]);
  }
  if ('Items' in payload) {
    const { Items, CallbackUrl } = parsed(batchRequestSchema(), payload);
    return { items: Items, batch: true, callbackUrl: CallbackUrl };
  }
  const { InstanceId, ScriptId, CallbackUrl } = parsed(singleRequestSchema(), payload);
  return { items: [{ InstanceId, ScriptId }], batch: false, callbackUrl: CallbackUrl };
}

/** A single item only (one event = one withdrawal). */
export function parseWithdrawalItem(payload: unknown): WithdrawalItem {
  if (!isRecord(payload)) {
    throw new InvalidParameterError([{ Path: '', Message: 'must be a JSON object with InstanceId and ScriptId' }]);
  }
  return parsed(itemSchema(), payload);
}
