import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { contextFor, script, startTestEmulator, type RoleCredentials } from '../support/stack';

/**
 * Guards the withdraw bundle against what a dependency bump could bring back: the SDK's
 * heavy modules, and any path that reaches the stubs of scripts/stubs/.
 */
const ROOT = path.resolve(__dirname, '../..');
type Metafile = { inputs: Record<string, unknown>; outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }> };
let metafiles: Record<string, Metafile>;
let stubbed: Record<string, Record<string, string>>;
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let handler: (event: Buffer, context: unknown) => Promise<Record<string, unknown>>;

beforeAll(async () => {
  const build = (await import(pathToFileURL(path.join(ROOT, 'scripts/build.mjs')).href)) as {
    buildFunctions(): Promise<Record<string, Metafile>>;
    STUBBED_MODULES: Record<string, Record<string, string>>;
  };
  metafiles = await build.buildFunctions();
  stubbed = build.STUBBED_MODULES;
  ({ emulator, role } = await startTestEmulator());
  emulator.addInstance('bundle-instance', ['a', 'b', 'c', 'd'].map((id) => script(`script-${id}`)));
  process.env.OUTBOUNDBOT_ENDPOINT = emulator.endpoint;
  process.env.OUTBOUNDBOT_PROTOCOL = 'http';
  process.env.RETRY_BASE_DELAY_MS = '1';
  ({ handler } = createRequire(import.meta.url)(path.join(ROOT, 'dist/withdraw/index.js')) as { handler: typeof handler });
});
afterAll(() => emulator.close());

const inputs = (name: string) => Object.keys(metafiles[name]!.inputs);
/** The inputs of a function's index.js that left code in it (tree-shaken modules are inputs of 0 bytes). */
const bundled = (name: string) =>
  Object.entries(metafiles[name]!.outputs)
    .filter(([output]) => output.endsWith(`${name}/index.js`))
    .flatMap(([, output]) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([file]) => file));

describe('the withdraw bundle', () => {
  it('stays small: under 256 KB before zipping (the budget is 1 MB zipped)', () => {
    const bytes = readFileSync(path.join(ROOT, 'dist/withdraw/index.js')).length;
    expect(bytes).toBeLessThan(256 * 1024);
  });

  it.each([
    ['@alicloud/fc2 and ali-oss', /node_modules\/(@alicloud\/fc2|ali-oss)\//],
    ['lodash, moment, ws and the proxy agents', /node_modules\/(lodash|moment|ws|socks|https?-proxy-agent|@darabonba)\//],
    ['the XML parser', /node_modules\/(xml2js|xmlbuilder|sax|@alicloud\/tea-xml)\//],
    ['the credential provider chain', /node_modules\/@alicloud\/credentials\//],
    ['debug (4.7 ms of every cold start, to print nothing)', /node_modules\/(.*\/)?debug\//],
    ['the cleanup code', /^lib\/cleanup|^lib\/fanout/],
  ])('leaves out %s', (_what, pattern) => {
    expect(inputs('withdraw').filter((file) => pattern.test(file))).toEqual([]);
  });

  it.each(['withdraw', 'cleanup'])('%s parses with zod/mini: its core and mini schemas, none of its locales, classic API or JSON Schema generator', (name) => {
    const zod = bundled(name).filter((file) => file.includes('node_modules/zod/'));
    expect(zod).toEqual(expect.arrayContaining(['node_modules/zod/v4/core/schemas.js', 'node_modules/zod/v4/mini/schemas.js']));
    expect(zod.filter((file) => /\/(locales|classic)\/|json-schema/.test(file))).toEqual([]);
  });

  it('uses the stubs it declares, and nothing else stands in for a real module', () => {
    const declared = Object.values(stubbed.withdraw!).sort();
    expect([...new Set(inputs('withdraw').filter((file) => file.startsWith('scripts/')))].sort()).toEqual([...new Set(declared)]);
    for (const real of Object.keys(stubbed.withdraw!)) {
      expect(inputs('withdraw').filter((file) => file.includes(`node_modules/${real}/`)), real).toEqual([]);
    }
  });

  it('keeps the Redis client out of index.js, in a side file loaded only when a store URL is set', () => {
    expect(inputs('withdraw').filter((file) => /node_modules\/(ioredis|@ioredis|redis)\/|lib\/idempotency\/redis-store/.test(file))).toEqual([]);
    expect(readFileSync(path.join(ROOT, 'dist/withdraw/index.js'), 'utf8')).toContain('./redis-store.js');
    expect(readFileSync(path.join(ROOT, 'dist/withdraw/redis-store.js'), 'utf8')).toContain('createRedisStore');
  });

  it('serves a withdrawal, an upstream refusal and a retried 500 without reaching a stub', async () => {
    const invoke = (ScriptId: string) => handler(Buffer.from(JSON.stringify({ InstanceId: 'bundle-instance', ScriptId })), contextFor(role));
    await expect(invoke('script-a')).resolves.toMatchObject({ Success: true, Code: 'OK' });
    await expect(invoke('script-missing')).resolves.toMatchObject({ Success: false, Code: 'NotExist.Script', HttpStatusCode: 404 });
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' });
    await expect(invoke('script-b')).resolves.toMatchObject({ Success: true, Attempts: 2 });
    emulator.injectFault({ kind: 'non-json' });
    await expect(invoke('script-c')).resolves.toMatchObject({ Success: true, Attempts: 2 });
  });
});

describe('lazy builtins', () => {
  it('loading the withdraw bundle loads neither node:stream/web nor zlib', () => {
    const probe = `require(${JSON.stringify(path.join(ROOT, 'dist/withdraw/index.js'))}); console.log(JSON.stringify(process.moduleLoadList))`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' })) as string[];
    expect(loaded).toContain('NativeModule http');
    expect(loaded.filter((entry) => /^NativeModule (zlib|stream\/web)$/.test(entry))).toEqual([]);
  });

  it.each(['zlib', 'stream/web'])('%s: every name of the real module, loaded on first read', async (name) => {
    const build = (await import(pathToFileURL(path.join(ROOT, 'scripts/build.mjs')).href)) as { lazyBuiltinSource(name: string): Promise<string> };
    const real = createRequire(import.meta.url)(`node:${name}`) as Record<string, unknown>;
    const required: string[] = [];
    const exports: Record<string, unknown> = {};
    new Function('exports', 'require', await build.lazyBuiltinSource(name))(exports, (id: string) => (required.push(id), real));
    expect(Object.keys(exports).sort()).toEqual(Object.keys(real).filter((key) => key !== 'default').sort());
    expect(required).toEqual([]);
    const [first] = Object.keys(exports);
    expect(exports[first!]).toBe(real[first!]);
    expect(required).toEqual([`node:${name}`]);
  });
});

describe('the stubs', () => {
  it('throw loudly if the SDK ever reaches them', () => {
    const load = createRequire(import.meta.url);
    const credentials = load(path.join(ROOT, 'scripts/stubs/alicloud-credentials.cjs')) as { default: new () => unknown };
    expect(() => new credentials.default()).toThrow(/not bundled/);
    const xml = load(path.join(ROOT, 'scripts/stubs/alicloud-tea-xml.cjs')) as { default: { parseXml(): unknown } };
    expect(() => xml.default.parseXml()).toThrow(SyntaxError);
  });

  it('debug: every logger is there, disabled, and prints nothing', () => {
    const createDebug = createRequire(import.meta.url)(path.join(ROOT, 'scripts/stubs/debug.cjs')) as (name: string) => ((...args: unknown[]) => void) & { enabled: boolean };
    const log = createDebug('httpx:body');
    expect(log.enabled).toBe(false);
    expect(log('anything')).toBeUndefined();
  });
});
