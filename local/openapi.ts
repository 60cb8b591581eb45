// The HTTP trigger's OpenAPI 3.1 document, around the JSON Schemas local/contract.ts makes from
// the schemas the function parses with. Statuses and headers are those of docs/DESIGN.md §5.
type JsonSchema = Record<string, unknown>;

export interface OpenApiParts {
  single: JsonSchema;
  batch: JsonSchema;
  itemResult: JsonSchema;
  batchResult: JsonSchema;
  errorBody: JsonSchema;
  maxBodyBytes: number;
  toleranceSeconds: number;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const header = (description: string, schema: JsonSchema = { type: 'string' }) => ({ description, schema });
const REQUEST_ID = { 'x-fc-request-id': header('The invocation\'s requestId, also in its log lines') };
const RETRY_AFTER = { 'retry-after': header('Seconds to wait before trying again', { type: 'integer', minimum: 1 }) };

/** Who answers with a status: the item's result (a single item answers with its own status), our refusal, or either. */
const STATUSES: Array<[status: string, description: string, body: 'result' | 'batch' | 'error' | 'either', extraHeaders?: Record<string, unknown>]> = [
  ['200', 'Withdrawn: one item\'s result, or a batch whose every item succeeded. `webhook-replayed: true` when answered from the idempotency store', 'result', { 'webhook-replayed': header('true when the answer comes from the idempotency store') }],
  ['207', 'A batch with at least one failed item: each item\'s result, in input order', 'batch'],
  ['400', 'InvalidParameter (Issues name each bad field: a bad id, body or JSON, ids or CallbackUrl in a signed request\'s query, a CallbackUrl not allowed), or an upstream 400 for the item', 'either'],
  ['401', 'InvalidSignature: missing, wrong, stale or future Standard Webhooks signature', 'error'],
  ['403', 'InstanceNotAllowed (an InstanceId outside ALLOWED_INSTANCE_IDS; nothing withdrawn), or an upstream 403 for the item', 'either'],
  ['404', 'The item\'s upstream 404 (NotExist.Script, NotExist.Instance, …)', 'result'],
  ['405', 'MethodNotAllowed: only POST', 'error', { allow: header('POST') }],
  ['409', 'RequestInProgress: the same delivery or script is still at work in another invocation (with retry-after); or the item\'s ReviewEndedUnconfirmed: after an attempt without a definite answer the review ended in a state an approval leaves too, so whether this withdrawal did it cannot be told (final)', 'either', RETRY_AFTER],
  ['413', 'PayloadTooLarge: a body over the limit, or an event over 1 MiB', 'error'],
  ['415', 'UnsupportedMediaType: neither JSON nor form', 'error'],
  ['422', 'IdempotencyKeyMismatch: the same webhook-id with another payload; nothing withdrawn', 'error'],
  ['500', 'MissingCredentials or InvalidConfiguration (the variable named, never its value)', 'error'],
  ['502', 'The upstream still failing after the retries, its Code kept', 'result'],
  ['503', 'IdempotencyStoreUnavailable: nothing withdrawn', 'either', RETRY_AFTER],
  ['504', 'DeadlineExceeded: the invocation\'s time ran out', 'result'],
];

function bodyOf(kind: 'result' | 'batch' | 'error' | 'either'): JsonSchema {
  if (kind === 'result') return { oneOf: [ref('ItemResult'), ref('BatchResult')] };
  if (kind === 'batch') return ref('BatchResult');
  if (kind === 'error') return ref('ErrorBody');
  return { oneOf: [ref('ItemResult'), ref('ErrorBody')] };
}

function responses(): Record<string, unknown> {
  return Object.fromEntries(
    STATUSES.map(([status, description, kind, extra]) => [
      status,
      { description, headers: { ...REQUEST_ID, ...(extra ?? {}) }, content: { 'application/json': { schema: bodyOf(kind) } } },
    ]),
  );
}

function signatureHeaders(toleranceSeconds: number): unknown[] {
  return [
    { name: 'webhook-id', in: 'header', required: true, description: 'The delivery\'s id: a repeat is answered from the idempotency store, never withdrawn twice', schema: { type: 'string', minLength: 1 } },
    { name: 'webhook-timestamp', in: 'header', required: true, description: `Unix seconds; within ±${toleranceSeconds} s of the function's clock`, schema: { type: 'string', pattern: '^[0-9]+$' } },
    {
      name: 'webhook-signature',
      in: 'header',
      required: true,
      description: 'Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` signatures made with WEBHOOK_SECRET (several during a rotation)',
      schema: { type: 'string' },
    },
  ];
}

export function openApiDocument(parts: OpenApiParts): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'withdraw-script-review: the withdraw function\'s HTTP trigger',
      version: '1',
      description:
        'Withdraws OutboundBot script reviews (WithdrawScriptReview). Every request is signed the Standard Webhooks way; the signature covers `id.timestamp.body` only, so what is withdrawn, and where results are called back, comes from the signed body alone.',
    },
    paths: {
      '/': {
        post: {
          operationId: 'withdraw',
          summary: 'Withdraw one script review, or a batch',
          parameters: signatureHeaders(parts.toleranceSeconds),
          requestBody: {
            required: true,
            description: `At most ${parts.maxBodyBytes} bytes`,
            content: {
              'application/json': { schema: { oneOf: [ref('WithdrawalItem'), ref('WithdrawalBatch')] } },
              'application/x-www-form-urlencoded': { schema: ref('WithdrawalItem') },
            },
          },
          responses: responses(),
        },
      },
    },
    components: {
      schemas: { WithdrawalItem: parts.single, WithdrawalBatch: parts.batch, ItemResult: parts.itemResult, BatchResult: parts.batchResult, ErrorBody: parts.errorBody },
    },
  };
}
