// @ts-check
/**
 * Mutation testing (issue #23): `npm run test:mutation`, not part of `npm test` or CI.
 * `npm run test:mutation -- --incremental` reruns only the mutants whose code or tests changed
 * since the last run (kept in reports/stryker-incremental.json).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  // The modules that keep the promises (docs/ARCHITECTURE.md, "Mutation testing"). No file is
  // excluded from them; an equivalent mutant is disabled at its line, with the reason.
  mutate: [
    'lib/webhooks/verify.ts',
    'lib/webhooks/address-policy.ts',
    'lib/webhooks/allowed-hosts.ts',
    'lib/webhooks/callback-policy.ts',
    'lib/withdraw/http-request.ts',
    'lib/fc/events.ts',
    'lib/fc/http-trigger.ts',
    'lib/idempotency/*.ts',
    'lib/withdraw/reconcile.ts',
  ],
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.mts', related: true },
  coverageAnalysis: 'perTest',
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'build', 'bench/results.json', '.s', 'reports'],
  // Two cores: two test-runner processes. Override with --concurrency.
  concurrency: 2,
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 80, break: null },
};
