// The published contract, generated from the schemas the functions parse with (issue #19):
// JSON Schemas of what a sender may send and what it gets back, and the HTTP trigger's OpenAPI
// document. `npm run contract` writes them to docs/contract/; a test fails when they drift.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { cleanupPayloadSchema } from '../lib/cleanup/request';
import { MAX_BODY_BYTES } from '../lib/fc/http-trigger';
import { DEFAULT_TOLERANCE_SECONDS } from '../lib/webhooks/verify';
import { batchRequestSchema, callbackUrlSchema, itemSchema, itemsSchema, MAX_BATCH_ITEMS, MAX_CALLBACK_URL_CHARS, singleRequestSchema } from '../lib/withdraw/items';
import { batchResultSchema, errorBodySchema, itemResultSchema } from '../lib/withdraw/result-schema';
import { openApiDocument } from './openapi';

type JsonSchema = Record<string, unknown>;
const BASE = 'https://withdraw-script-review.example/contract/';

/**
 * What zod cannot say from a schema that checks in stages or by a function: the batch's items
 * (its length is checked before any element is read) and the callback URL's form.
 */
function withWhatChecksSay(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void {
  if (ctx.zodSchema === itemsSchema()) {
    for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
    Object.assign(ctx.jsonSchema, { type: 'array', items: inputSchema(itemSchema()), minItems: 1, maxItems: MAX_BATCH_ITEMS });
  }
  if (ctx.zodSchema === callbackUrlSchema()) {
    Object.assign(ctx.jsonSchema, { format: 'uri', maxLength: MAX_CALLBACK_URL_CHARS, description: 'Where this request\'s results are called back; its host must be in CALLBACK_ALLOWED_HOSTS' });
  }
}

function inputSchema(schema: z.ZodMiniType, extra: JsonSchema = {}): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', override: withWhatChecksSay }) as JsonSchema;
  delete json.$schema;
  return { ...extra, ...json };
}

function outputSchema(schema: z.ZodMiniType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'output' }) as JsonSchema;
  delete json.$schema;
  return json;
}

function document(id: string, title: string, body: JsonSchema): JsonSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `${BASE}${id}`, title, ...body };
}

/** Every file of docs/contract/, by name, as it must be written. */
export function contractDocuments(): Record<string, JsonSchema> {
  // A body with Items is read as a batch, whatever else it names.
  const single = { ...inputSchema(singleRequestSchema(), { title: 'One withdrawal' }), not: { required: ['Items'] } };
  const batch = inputSchema(batchRequestSchema(), { title: `A batch of 1-${MAX_BATCH_ITEMS} withdrawals` });
  const request = document('withdraw-request.schema.json', 'A withdrawal request: one item, or {"Items": [...]}', { oneOf: [single, batch] });
  const itemResult = { title: 'The result of one withdrawal', ...outputSchema(itemResultSchema()) };
  const batchResult = { title: 'The answer to a batch', ...outputSchema(batchResultSchema()) };
  const result = document('withdraw-result.schema.json', 'What a withdrawal answers: the result of one item, or a batch\'s answer', { oneOf: [itemResult, batchResult] });
  const errorBody = { title: 'A refusal of our own, in the API\'s error shape', ...outputSchema(errorBodySchema()) };
  const cleanup = document('cleanup-payload.schema.json', 'The cleanup function\'s timer payload (the JSON inside the timer event\'s payload string)', inputSchema(cleanupPayloadSchema()));
  const openapi = openApiDocument({ single, batch, itemResult, batchResult, errorBody, maxBodyBytes: MAX_BODY_BYTES, toleranceSeconds: DEFAULT_TOLERANCE_SECONDS });
  return {
    'withdraw-request.schema.json': request,
    'withdraw-result.schema.json': result,
    'cleanup-payload.schema.json': cleanup,
    'openapi.json': openapi,
  };
}

export function contractText(document: JsonSchema): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? 'docs/contract');
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(contractDocuments())) writeFileSync(path.join(dir, name), contractText(content));
  process.stdout.write(`wrote ${Object.keys(contractDocuments()).length} files to ${path.relative(process.cwd(), dir) || '.'}\n`);
}
