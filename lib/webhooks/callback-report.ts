import * as z from 'zod/mini';
import { onFirstUse } from '../core/schema';

/**
 * What a result says of its callback. An output, never parsed at run time: the schema is what
 * the type and the published contract (docs/contract/) are made from.
 */
export const callbackReportSchema = onFirstUse(() =>
  z.object({
    Delivered: z.boolean(),
    /** scheme://host[:port] only: a receiver's path or query is often a token. */
    Url: z.string(),
    StatusCode: z.optional(z.int()),
    /** HTTP attempts made (0 when refused before sending). */
    Attempts: z.int(),
    /** `CallbackRefused` (policy), `CallbackFailed` (network, DNS, non-2xx), `CallbackTimeout`. */
    Code: z.optional(z.enum(['CallbackRefused', 'CallbackFailed', 'CallbackTimeout'])),
    Message: z.optional(z.string()),
    WebhookId: z.string(),
  }),
);

export type CallbackReport = z.output<ReturnType<typeof callbackReportSchema>>;
