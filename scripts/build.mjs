// Bundles each FC function into dist/<name>/index.js (CommonJS, node20, dependencies inside)
// and the local tools (dev server, CLI) into build/. Run: node scripts/build.mjs
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const isMain = process.argv[1] === fileURLToPath(import.meta.url);

const { build } = await loadEsbuild();

/**
 * esbuild is a devDependency: from a fresh clone (or in `s deploy`'s pre-deploy action) without
 * `npm ci`, a static import would die with a raw ERR_MODULE_NOT_FOUND stack. Say what to do instead.
 */
async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes("'esbuild'")) throw error;
    const message = `esbuild is not installed in ${root}: run \`npm ci\` there first, then build again`;
    if (!isMain) throw new Error(message);
    process.stderr.write(`build: ${message}\n`);
    process.exit(1);
  }
}

/** Every functions/<name>/index.ts is a deployable function. */
export const FUNCTIONS = readdirSync(path.join(root, 'functions')).filter((name) =>
  existsSync(path.join(root, 'functions', name, 'index.ts')),
);

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  absWorkingDir: root,
  // urllib (under @alicloud/fc2 → ali-oss) requires it only when an HTTP proxy is configured.
  external: ['proxy-agent'],
};

/**
 * SDK modules the JSON RPC path provably never runs, replaced per function by stubs that
 * throw if reached (see scripts/stubs/ and test/bundle.test.ts).
 */
export const STUBBED_MODULES = {
  withdraw: {
    '@alicloud/credentials': 'scripts/stubs/alicloud-credentials.cjs',
    '@alicloud/tea-xml': 'scripts/stubs/alicloud-tea-xml.cjs',
    debug: 'scripts/stubs/debug.cjs',
  },
  cleanup: {
    '@alicloud/credentials': 'scripts/stubs/alicloud-credentials.cjs',
    '@alicloud/tea-xml': 'scripts/stubs/alicloud-tea-xml.cjs',
    debug: 'scripts/stubs/debug.cjs',
    // @alicloud/fc2 loads these eagerly but async invocation never uses them (ali-oss also fails to bundle: urllib's optional proxy-agent).
    'ali-oss': 'scripts/stubs/fc2-unused.cjs',
    axios: 'scripts/stubs/fc2-unused.cjs',
    ws: 'scripts/stubs/fc2-unused.cjs',
  },
};

/**
 * Modules that load only on an optional path, bundled into a file of their own beside index.js
 * so the function's cold start never reads them: `import('./redis-store')` in the source becomes
 * `require('./redis-store.js')` at run time.
 */
export const SIDE_MODULES = { 'redis-store': 'lib/idempotency/redis-store.ts' };

/** esbuild aliases that put a function's stubs in place of the real modules. */
const stubAliases = (name) => Object.fromEntries(Object.entries(STUBBED_MODULES[name] ?? {}).map(([from, to]) => [from, `./${to}`]));

const sideModulesApart = {
  name: 'side-modules-apart',
  setup(pluginBuild) {
    const names = Object.keys(SIDE_MODULES).join('|');
    pluginBuild.onResolve({ filter: new RegExp(`^\\./(${names})$`) }, (args) => ({ path: `${args.path}.js`, external: true }));
  },
};

/**
 * Builtins a bundled dependency requires at load but uses only on paths an RPC JSON call never
 * takes: node:stream/web (middy, for streamed responses: ~0.9 ms of every cold start) and zlib
 * (httpx, for compressed answers: ~0.5 ms). In the bundles each becomes a module of getters,
 * one per name the builtin exports, that loads the real builtin when a name is first read.
 */
export const LAZY_BUILTINS = ['stream/web', 'zlib'];

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(pluginBuild) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.map((name) => name.replace('/', '\\/')).join('|')})$`);
    // The generated module's own require of the builtin falls through to esbuild (external).
    pluginBuild.onResolve({ filter }, (args) => (args.namespace === 'lazy-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => ({ contents: await lazyBuiltinSource(args.path), loader: 'js' }));
  },
};

export async function lazyBuiltinSource(name) {
  const names = Object.keys(await import(/* @vite-ignore */ `node:${name}`)).filter((key) => key !== 'default');
  const getters = names.map((key) => `Object.defineProperty(exports, ${JSON.stringify(key)}, { enumerable: true, get: () => load()[${JSON.stringify(key)}] });`);
  return [`let real;`, `const load = () => (real ??= require(${JSON.stringify(`node:${name}`)}));`, ...getters].join('\n');
}

export async function buildFunctions() {
  const metafiles = {};
  for (const name of FUNCTIONS) {
    const outdir = path.join(root, 'dist', name);
    await mkdir(outdir, { recursive: true });
    const result = await build({
      ...common,
      entryPoints: [`functions/${name}/index.ts`],
      outfile: path.join(outdir, 'index.js'),
      metafile: true,
      minify: true,
      legalComments: 'none',
      alias: stubAliases(name),
      plugins: [sideModulesApart, lazyBuiltins],
      write: false,
    });
    const side = await build({
      ...common,
      entryPoints: Object.fromEntries(Object.entries(SIDE_MODULES)),
      outdir,
      minify: true,
      legalComments: 'none',
      write: false,
    });
    // Written aside and renamed, so a process loading the bundle never sees half a file.
    for (const file of [...result.outputFiles, ...side.outputFiles]) {
      const temporary = `${file.path}.${randomBytes(6).toString("hex")}.tmp`;
      await writeFile(temporary, file.contents);
      await rename(temporary, file.path);
    }
    metafiles[name] = result.metafile;
    // A package.json here keeps Node from reading the bundle as ESM if a parent says "type": "module".
    await writeFile(path.join(outdir, 'package.json'), '{"type":"commonjs"}\n');
  }
  return metafiles;
}

/** The local tools into `outdir` (build/ by default; a test may build a private copy). */
export async function buildTools(outdir = path.join(root, 'build')) {
  await build({
    ...common,
    entryPoints: {
      server: 'local/server.ts',
      cli: 'local/cli.ts',
      contract: 'local/contract.ts',
      bench: 'bench/bench.ts',
      'bench-cold-raw': 'bench/cold-raw.ts',
      'bench-cold-handler': 'bench/cold-handler.ts',
      'bench-batch': 'bench/batch-child.ts',
      'bench-cleanup': 'bench/cleanup-child.ts',
      'bench-warm': 'bench/warm-child.ts',
      'bench-emulator': 'bench/emulator-process.ts',
      'bench-schemas-cold': 'bench/schemas-cold.ts',
      'bench-profile': 'bench/warm-profile.ts',
      'bench-ab': 'bench/warm-ab.ts',
    },
    outdir,
    sourcemap: true,
  });
  // The withdraw function bundled as in dist/, but not minified, for bench/warm-profile.ts: esbuild's
  // `// <path>` comment before each module's code tells which source a profiled line came from.
  await build({
    ...common,
    entryPoints: ['functions/withdraw/index.ts'],
    outfile: path.join(outdir, 'profile-withdraw', 'index.js'),
    alias: stubAliases('withdraw'),
    plugins: [sideModulesApart, lazyBuiltins],
  });
  await build({ ...common, entryPoints: Object.fromEntries(Object.entries(SIDE_MODULES)), outdir: path.join(outdir, 'profile-withdraw') });
  // The cold baseline of the official client alone, and the function's schemas alone, bundled as the withdraw function is.
  await build({
    ...common,
    entryPoints: { 'bench-cold-client': 'bench/cold-client.ts', 'bench-schemas': 'bench/schemas-entry.ts' },
    outdir,
    minify: true,
    alias: stubAliases('withdraw'),
    plugins: [lazyBuiltins],
  });
}

if (isMain) {
  await buildFunctions();
  if (process.argv.includes('--tools')) await buildTools();
}
