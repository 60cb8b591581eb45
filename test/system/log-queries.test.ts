// The Simple Log Service queries and the alert rule in deploy/sls/ (issue #21, "Logs that answer
// questions"), checked against real log lines: the built bundles run in processes of their own
// against the emulator, through the cases the queries are about, and every field a query names,
// every value it searches and every field it reads through the index must be one those lines
// write. docs/OPERATIONS.md must give the same query text as the files.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver';
import { fencedBlocks } from '../support/doc-blocks';
import { cloudEvent, httpEvent } from '../support/events';
import { startInstance, type Instance } from '../support/instances';
import { buildScript } from '../support/local-stack';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface SavedQuery {
  name: string;
  title: string;
  timeRange: string;
  query: string;
}
interface IndexKey {
  type: 'text' | 'long' | 'double' | 'json';
  doc_value?: boolean;
}
const queriesFile = JSON.parse(read('deploy/sls/queries.json')) as { project: string; logstore: string; queries: SavedQuery[] };
const alert = JSON.parse(read('deploy/sls/alert-failures.json')) as {
  configuration: {
    queryList: Array<{ query: string; project: string; store: string; start: string }>;
    groupConfiguration: { fields: string[] };
    severityConfigurations: Array<{ severity: number; evalCondition: { condition: string } }>;
    annotations: Array<{ key: string; value: string }>;
    policyConfiguration: { repeatInterval: string };
  };
};
const indexKeys = (JSON.parse(read('deploy/sls/index-message.json')) as { message: { type: string; json_keys: Record<string, IndexKey> } }).message;
const ALERT_QUERY = alert.configuration.queryList[0]!.query;
/** Every query the deploy files hold, by the name docs/OPERATIONS.md marks it with. */
const ALL_QUERIES: Array<[string, string]> = [...queriesFile.queries.map((q): [string, string] => [q.name, q.query]), ['alert-failures', ALERT_QUERY]];

// ---------------------------------------------------------------------------------------------
// What a query names: a small reader of the SLS syntax the queries use, strict on purpose.
// ---------------------------------------------------------------------------------------------

/** Fields SLS and FC put beside `message` in every entry; a query may name them, our lines do not write them. */
const RESERVED = new Set(['__time__', '__topic__', '__source__']);
/** The field FC stores each stdout line in; our JSON's fields are its sub-fields. */
const LINE_FIELD = 'message';
/** SLS's default delimiters: what a text value is split into for a search term to match. */
const DELIMITERS = /[,\s'";=()[\]{}?@&<>/:]+/;
const SQL_WORDS = new Set(
  [
    'select', 'as', 'from', 'log', 'where', 'group', 'by', 'order', 'desc', 'asc', 'limit', 'and', 'or', 'not', 'distinct', 'having',
    'case', 'when', 'then', 'else', 'end', 'null', 'is', 'in', 'true', 'false',
    'count', 'sum', 'max', 'min', 'avg', 'if', 'arbitrary', 'max_by', 'min_by', 'from_unixtime',
  ],
);

interface SearchTerm {
  field: string;
  op: string;
  value: string;
}
interface QueryNames {
  /** `field: value` (or `field > n`) terms of the search part. */
  terms: SearchTerm[];
  /** Double-quoted column names of the SQL part. */
  columns: string[];
  /** Names the SQL part defines with `as`. */
  aliases: string[];
  /** What the reader could not place: a bare word in the search, a bare name in SQL that is no alias, keyword or function. */
  problems: string[];
}

function splitQuery(query: string): { search: string; sql: string } {
  let quoted = false;
  for (let i = 0; i < query.length; i++) {
    if (query[i] === '"') quoted = !quoted;
    if (query[i] === '|' && !quoted) return { search: query.slice(0, i).trim(), sql: query.slice(i + 1).trim() };
  }
  return { search: query.trim(), sql: '' };
}

function namesOf(query: string): QueryNames {
  const { search, sql } = splitQuery(query);
  const problems: string[] = [];
  const terms: SearchTerm[] = [];
  const TERM = /([A-Za-z_][\w.]*)\s*(:|>=|<=|>|<|=)\s*("[^"]*"|<[A-Za-z]+>|[^\s()]+)/g;
  for (const m of search.matchAll(TERM)) terms.push({ field: m[1]!, op: m[2]!, value: m[3]!.replace(/^"|"$/g, '') });
  const rest = search.replace(TERM, ' ').split(/[\s()]+/).filter(Boolean);
  for (const word of rest) if (!['and', 'or', 'not', '*'].includes(word.toLowerCase())) problems.push(`search: bare word ${word} (a full-text search, or a field without its value)`);

  const withoutStrings = sql.replace(/'[^']*'/g, "''");
  const columns = [...withoutStrings.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  const bare = withoutStrings.replace(/"[^"]+"/g, ' ');
  const aliases = [...bare.matchAll(/\bas\s+([A-Za-z_]\w*)/gi)].map((m) => m[1]!);
  for (const word of bare.match(/[A-Za-z_]\w*/g) ?? []) {
    if (!SQL_WORDS.has(word.toLowerCase()) && !aliases.includes(word)) problems.push(`SQL: bare name ${word} (a log field is "${LINE_FIELD}.<field>")`);
  }
  return { terms, columns, aliases, problems };
}

/** A field a query names, as the path of our JSON line it reads, or why it is not one. */
function lineField(name: string): { path?: string; reserved?: boolean; problem?: string } {
  if (RESERVED.has(name)) return { reserved: true };
  if (name.startsWith(`${LINE_FIELD}.`)) return { path: name.slice(LINE_FIELD.length + 1) };
  return { problem: `${name} is neither "${LINE_FIELD}.<field>" nor a field SLS or FC adds` };
}

/** Each leaf of a line as `a.b` → its values: what a JSON index can hold (SLS indexes no arrays, no inner objects). */
function leaves(lines: Array<Record<string, unknown>>): Map<string, unknown[]> {
  const found = new Map<string, unknown[]>();
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) return;
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, at ? `${at}.${key}` : key);
      return;
    }
    found.set(at, [...(found.get(at) ?? []), value]);
  };
  for (const line of lines) walk(line, '');
  return found;
}

const tokens = (text: string) => text.toLowerCase().split(DELIMITERS).filter(Boolean);

/** `Code` values our own errors carry (`readonly code = '…'` in lib/): a term may search one no scenario produced. */
function libCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(path.join(ROOT, 'lib', file), 'utf8');
    for (const m of source.matchAll(/readonly code = '([^']+)'/g)) codes.add(m[1]!);
  }
  return codes;
}

/**
 * Everything wrong with `query` against the fields and values of real lines: an empty list
 * when every name it uses is a field our lines write (and, for the SQL part, that the index
 * reads with analytics on).
 */
function problemsOf(query: string, written: Map<string, unknown[]>, index: Record<string, IndexKey>, codes: Set<string>): string[] {
  const { terms, columns, problems } = namesOf(query);
  const out = [...problems];
  for (const term of terms) {
    const field = lineField(term.field);
    if (field.problem) out.push(`search: ${field.problem}`);
    if (!field.path) continue;
    const values = written.get(field.path);
    if (!values) {
      out.push(`search: ${term.field}: our log lines never write ${field.path}`);
      continue;
    }
    if (!index[field.path]) out.push(`search: ${term.field} is not in deploy/sls/index-message.json`);
    if (term.op !== ':') {
      if (index[field.path]?.type !== 'long' || !values.every((v) => Number.isInteger(v))) out.push(`search: ${term.field} ${term.op} needs a field of whole numbers indexed as long`);
      continue;
    }
    if (/^<\w+>$/.test(term.value)) continue;
    const wanted = tokens(term.value);
    const seen = values.some((v) => wanted.every((t) => tokens(String(v)).includes(t)));
    if (!seen && !(field.path === 'Code' && codes.has(term.value))) out.push(`search: ${term.field}: ${term.value} matches no value our log lines write`);
  }
  for (const column of columns) {
    const field = lineField(column);
    if (field.problem) out.push(`SQL: ${field.problem}`);
    if (!field.path) continue;
    if (!written.has(field.path)) {
      out.push(`SQL: "${column}": our log lines never write ${field.path}`);
      continue;
    }
    if (!index[field.path]?.doc_value) out.push(`SQL: "${column}" has no analytics (doc_value) in deploy/sls/index-message.json`);
  }
  return out;
}

/** The queries docs/OPERATIONS.md gives, by their `<!-- sls-query: name -->` marker. */
function documentedQueries(): Map<string, string> {
  const doc = read('docs/OPERATIONS.md');
  const section = doc.slice(doc.indexOf('\n## Finding answers in the logs\n'));
  const found = new Map<string, string>();
  for (const block of fencedBlocks(section)) if (block.lang === 'text' && block.marker?.startsWith('sls-query: ')) found.set(block.marker.slice('sls-query: '.length), block.text.replace(/\n$/, ''));
  return found;
}

// ---------------------------------------------------------------------------------------------
// Real lines: the built bundles through the cases the queries are about.
// ---------------------------------------------------------------------------------------------

const ALLOWED = 'lq-instance';
const sYaml = parseYaml(read('s.yaml')) as { resources: Record<string, { props: Record<string, any> }> };
const withdrawProps = sYaml.resources.withdraw!.props;
/** Attempts FC makes of an async invocation before it parks the event: the first and its retries. */
const FC_ATTEMPTS = (withdrawProps.asyncInvokeConfig.maxAsyncRetryAttempts as number) + 1;
/** EventBridge's BACKOFF_RETRY retries a failed push 3 times (EventBridge, "Retry policies and dead-letter queues"). */
const EVENTBRIDGE_ATTEMPTS = 1 + 3;

let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let receiver: CallbackReceiver;
const started: Instance[] = [];
/** Every line of every instance, with the case it came from. */
const lines: Array<Record<string, unknown>> = [];
const parkedRequestId = randomUUID();
let parkedScript = '';
let eventBridgeScript = '';

async function scenarios(): Promise<void> {
  ({ emulator, role } = await startTestEmulator());
  receiver = await startCallbackReceiver();
  const base = {
    OUTBOUNDBOT_ENDPOINT: emulator.endpoint,
    OUTBOUNDBOT_PROTOCOL: 'http',
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    ALLOWED_INSTANCE_IDS: ALLOWED,
    ALLOW_UNSIGNED_HTTP: 'true',
    BATCH_CONCURRENCY: '1',
  };
  const withdraw = await startInstance(base);
  const calledBack = await startInstance({ ...base, CALLBACK_URL: receiver.origin, CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
  // A receiver that is gone: the callback fails, and the line says how (callbackCode).
  const gone = await startCallbackReceiver();
  await gone.close();
  const notCalledBack = await startInstance({ ...base, CALLBACK_URL: gone.origin, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_TIMEOUT_MS: '500' });
  const cleanup = await startInstance(base, 'cleanup');
  started.push(withdraw, calledBack, notCalledBack, cleanup);

  const ids = Array.from({ length: 9 }, () => randomUUID());
  const old = (id: string) => ({ ...script(id), UpdateTime: Date.now() - 3 * 86_400_000 });
  emulator.addInstance(ALLOWED, [...ids.slice(0, 6).map((id) => script(id)), old(ids[6]!), old(ids[7]!), script(ids[8]!)]);
  const item = (ScriptId: string) => ({ InstanceId: ALLOWED, ScriptId });
  const context = (requestId: string = randomUUID(), name = 'withdraw', timeout = 10) => ({ requestId, credentials: role, function: { name, timeout } });
  const WITHDRAW = 'WithdrawScriptReview';
  const failing = (times: number) => emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times, action: WITHDRAW });

  // A success, called back; a success over HTTP.
  await calledBack.invoke(item(ids[0]!), context());
  await notCalledBack.invoke(item(ids[8]!), context());
  await withdraw.invoke(httpEvent({ body: JSON.stringify(item(ids[1]!)), contentType: 'application/json' }), context());
  // Refusals: an instance outside ALLOWED_INSTANCE_IDS (invoke), a bad item (HTTP).
  await withdraw.invoke({ InstanceId: 'not-allowed', ScriptId: ids[2] }, context());
  await withdraw.invoke(httpEvent({ body: JSON.stringify({ InstanceId: ALLOWED }), contentType: 'application/json' }), context());
  // An async delivery failing retryably on every attempt FC makes (FC keeps its requestId): parked.
  parkedScript = ids[2]!;
  failing(2 * FC_ATTEMPTS);
  for (let attempt = 0; attempt < FC_ATTEMPTS; attempt++) await withdraw.invoke(item(parkedScript), context(parkedRequestId));
  // A batch: the first item fails retryably, the second succeeds; FC's retry answers the second from the record.
  const retried = randomUUID();
  failing(2);
  await withdraw.invoke({ Items: [item(ids[3]!), item(ids[4]!)] }, context(retried));
  await withdraw.invoke({ Items: [item(ids[3]!), item(ids[4]!)] }, context(retried));
  // A lost answer: the withdrawal is done but a gateway answers 502; the retry is refused and the script read back.
  emulator.injectFault({ kind: 'after-commit', status: 502 }, { times: 1, action: WITHDRAW });
  await withdraw.invoke(item(ids[5]!), context());
  // An MNS message through EventBridge failing on its push and each retry (a new invocation each time).
  eventBridgeScript = ids[7]!;
  const message = cloudEvent({ requestId: randomUUID(), messageId: randomUUID(), messageBody: JSON.stringify(item(eventBridgeScript)) });
  failing(2 * EVENTBRIDGE_ATTEMPTS);
  for (let attempt = 0; attempt < EVENTBRIDGE_ATTEMPTS; attempt++) await withdraw.invoke(message, context());
  // The cleanup: a dry run, a run that withdraws the stale review, a payload it refuses.
  const timer = (payload: Record<string, unknown>) => Buffer.from(JSON.stringify({ triggerTime: '2026-11-24T19:00:00Z', triggerName: 'nightly', payload: JSON.stringify(payload) }));
  await cleanup.invoke(timer({ InstanceId: ALLOWED, OlderThanMinutes: 1440, DryRun: true }), context(randomUUID(), 'cleanup', 60));
  await cleanup.invoke(timer({ InstanceId: ALLOWED, OlderThanMinutes: 1440 }), context(randomUUID(), 'cleanup', 60));
  await cleanup.invoke(timer({ InstanceId: ALLOWED }), context(randomUUID(), 'cleanup', 60));

  for (const instance of started) lines.push(...instance.logs());
}

beforeAll(async () => {
  await (await buildScript()).buildFunctions();
  await scenarios();
}, 90_000);
afterAll(async () => {
  for (const instance of started) instance.kill();
  await receiver?.close();
  await emulator?.close();
});

const messageOf = (text: string) => lines.filter((l) => l.message === text);

describe('the scenarios wrote the lines the queries are about', () => {
  it('a success with its callback, refusals, retryable failures, a record, a reconciliation, the cleanup', () => {
    expect(messageOf('withdrawal succeeded').some((l) => l.callbackDelivered === true)).toBe(true);
    expect(messageOf('withdrawal succeeded').some((l) => l.callbackDelivered === false && l.callbackCode === 'CallbackFailed')).toBe(true);
    expect(messageOf('request refused').map((l) => l.Code)).toEqual(expect.arrayContaining(['InstanceNotAllowed', 'InvalidParameter']));
    expect(messageOf('withdrawal failed').some((l) => l.Retryable === true && l.level === 'error')).toBe(true);
    expect(messageOf('withdrawal succeeded').some((l) => l.fromMemory === true)).toBe(true);
    expect(messageOf('withdrawal succeeded').some((l) => l.Reconciled === true)).toBe(true);
    expect(messageOf('cleanup finished').map((l) => l.DryRun)).toEqual([true, false]);
    expect(messageOf('cleanup refused')).toHaveLength(1);
  });
});

describe('deploy/sls queries name only what our log lines write', () => {
  it.each(ALL_QUERIES)('%s', (_name, query) => {
    expect(problemsOf(query, leaves(lines), indexKeys.json_keys, libCodes())).toEqual([]);
  });

  it('the reader fails a query that names a field our lines never write, or names it the wrong way', () => {
    const written = leaves(lines);
    const check = (query: string) => problemsOf(query, written, indexKeys.json_keys, libCodes());
    const story = queriesFile.queries.find((q) => q.name === 'delivery-story')!.query;
    expect(check(story)).toEqual([]);
    expect(check(story.replace('"message.Attempts"', '"message.Attempt"'))).toEqual([expect.stringContaining('never write Attempt')]);
    expect(check(story.replace('message.requestId:', 'message.RequestID:'))).toEqual([expect.stringContaining('never write RequestID')]);
    expect(check(ALERT_QUERY.replace('message.trigger: eventbridge', 'message.trigger: mns'))).toEqual([expect.stringContaining('mns matches no value')]);
    expect(check('message.level: error | select Code, count(*) as n group by Code')).toEqual([expect.stringContaining('bare name Code'), expect.stringContaining('bare name Code')]);
    expect(check('level: error')).toEqual([expect.stringContaining('level is neither')]);
    expect(check('cleanup and message.level: info')).toEqual([expect.stringContaining('bare word cleanup')]);
    expect(check('message.ScriptIds: x')).toEqual([expect.stringContaining('never write ScriptIds')]);
  });

  it('the index holds only fields our lines write, each with the type of its values', () => {
    const written = leaves(lines);
    expect(indexKeys.type).toBe('json');
    for (const [field, key] of Object.entries(indexKeys.json_keys)) {
      const values = written.get(field);
      expect(values, `index-message.json indexes ${field}, which no line writes`).toBeDefined();
      const numeric = values!.every((v) => typeof v === 'number');
      expect(key.type, field).toBe(numeric ? 'long' : 'text');
    }
  });
});

describe('the alert rule', () => {
  const { configuration } = alert;
  const outputs = () => {
    const { sql } = splitQuery(ALERT_QUERY);
    // The outer select's columns: the names before ` from (`, each a plain name or the last `as` alias.
    const outer = sql.slice('select '.length, sql.indexOf(' from ('));
    return outer.split(/,(?![^(]*\))/).map((part) => part.trim().split(/\s+as\s+/).pop()!);
  };

  it('parks at the attempts s.yaml and EventBridge make', () => {
    expect(ALERT_QUERY).toContain(`if(failedAttempts >= if(via = 'eventbridge', ${EVENTBRIDGE_ATTEMPTS}, ${FC_ATTEMPTS}), 1, 0) as parked`);
    const trigger = withdrawProps.triggers.find((t: { triggerType: string }) => t.triggerType === 'eventbridge');
    expect(trigger.triggerConfig.runOptions.retryStrategy.PushRetryStrategy).toBe('BACKOFF_RETRY');
    // Every attempt of one async event falls in the rule's window: FC drops events older than this.
    const windowSeconds = Number(/^-(\d+)m$/.exec(configuration.queryList[0]!.start)![1]) * 60;
    expect(windowSeconds).toBeGreaterThan(withdrawProps.asyncInvokeConfig.maxAsyncEventAgeInSeconds);
    expect(configuration.queryList[0]).toMatchObject({ project: queriesFile.project, store: queriesFile.logstore });
  });

  it('conditions, groups and annotations name columns the query returns', () => {
    const columns = outputs();
    expect(columns).toEqual(['via', 'InstanceId', 'ScriptId', 'delivery', 'failedAttempts', 'lastCode', 'lastFailure', 'parked']);
    for (const field of configuration.groupConfiguration.fields) expect(columns).toContain(field);
    for (const { evalCondition } of configuration.severityConfigurations) for (const name of evalCondition.condition.match(/[A-Za-z_]\w*/g)!) expect(columns).toContain(name);
    for (const { value } of configuration.annotations) for (const m of value.matchAll(/\$\{(\w+)\}/g)) expect(columns).toContain(m[1]);
  });

  it('what it counts is in the lines: one requestId per parked async delivery, a new one per EventBridge push', () => {
    // The lines the search part selects, grouped as its SQL groups them.
    const retryableCodes = ['IdempotencyStoreUnavailable', 'RequestInProgress', 'DeadlineExceeded'];
    const selected = lines.filter((l) => (l.Retryable === true || retryableCodes.includes(l.Code as string)) && ['invoke', 'eventbridge'].includes(l.trigger as string));
    const groups = new Map<string, number>();
    for (const l of selected) {
      const key = [l.trigger, l.InstanceId, l.ScriptId, l.trigger === 'eventbridge' ? '-' : l.requestId].join(' ');
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    const parked = [...groups].filter(([key, n]) => n >= (key.startsWith('eventbridge') ? EVENTBRIDGE_ATTEMPTS : FC_ATTEMPTS)).map(([key]) => key);
    expect(parked.sort()).toEqual([`eventbridge ${ALLOWED} ${eventBridgeScript} -`, `invoke ${ALLOWED} ${parkedScript} ${parkedRequestId}`].sort());
    // The batch that FC's retry finished is no parked delivery: one retryable line for its first item.
    expect([...groups.values()].filter((n) => n === 1)).toHaveLength(1);
    // And an EventBridge retry is a new invocation: four requestIds for the one message.
    expect(new Set(selected.filter((l) => l.trigger === 'eventbridge').map((l) => l.requestId)).size).toBe(EVENTBRIDGE_ATTEMPTS);
  });
});

describe('docs/OPERATIONS.md, "Finding answers in the logs"', () => {
  it('gives every query of deploy/sls, each as its file has it, and no other', () => {
    const documented = documentedQueries();
    expect([...documented.keys()].sort()).toEqual(ALL_QUERIES.map(([name]) => name).sort());
    for (const [name, query] of ALL_QUERIES) expect(documented.get(name), name).toBe(query);
  });
});
