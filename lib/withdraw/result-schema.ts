/**
 * The withdraw function's answers as schemas: a result per item, a batch's answer, and our own
 * refusals. Outputs, never parsed at run time (only types are imported from here, so no bundle
 * builds them): the types, the published contract (docs/contract/) and the tests that hold real
 * answers to it are made from these.
 */
import * as z from 'zod/mini';
import { onFirstUse } from '../core/schema';
import { callbackReportSchema } from '../webhooks/callback-report';

export const withdrawResultSchema = onFirstUse(() =>
  z.object({
    InstanceId: z.string(),
    ScriptId: z.string(),
    Success: z.boolean(),
    HttpStatusCode: z.int(),
    Code: z.string(),
    Message: z.string(),
    /** The upstream RequestId when OutboundBot answered. */
    RequestId: z.optional(z.string()),
    Script: z.optional(z.record(z.string(), z.unknown())),
    Attempts: z.int(),
    /** True when trying again later may succeed: FC's async retry and on-failure destination take over. */
    Retryable: z.boolean(),
    /** A refusal turned out to follow our own earlier, unanswered attempt: that attempt withdrew the script. */
    Reconciled: z.optional(z.boolean()),
    /** For a retryable refusal of our own (409 RequestInProgress, 503 store unavailable): when to come back, as HTTP's `retry-after`. */
    RetryAfterSeconds: z.optional(z.int()),
  }),
);

/** A result as the withdraw function answers it: the withdrawal, and its callback's delivery. */
export const itemResultSchema = onFirstUse(() => z.extend(withdrawResultSchema(), { Callback: z.optional(callbackReportSchema()) }));

/** The answer to a batch (`{"Items": [...]}`, or an EventBridge array): one result per item, in order. */
export const batchResultSchema = onFirstUse(() => z.object({ Success: z.boolean(), Results: z.array(itemResultSchema()) }));

/** Our own refusals, in the API's error shape: `Issues` names each bad field of a 400. */
export const errorBodySchema = onFirstUse(() =>
  z.object({
    Success: z.literal(false),
    HttpStatusCode: z.int(),
    Code: z.string(),
    Message: z.string(),
    RequestId: z.string(),
    Issues: z.optional(z.array(z.object({ Path: z.string(), Message: z.string() }))),
  }),
);

export type WithdrawResult = z.output<ReturnType<typeof withdrawResultSchema>>;
export type ItemResult = z.output<ReturnType<typeof itemResultSchema>>;
export type BatchResult = z.output<ReturnType<typeof batchResultSchema>>;
