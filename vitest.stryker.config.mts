// The vitest configuration `npm run test:mutation` runs (stryker.config.mjs): the fast unit tests
// that import the modules held to the mutation score, nothing else. The system and attack tests
// run the built bundles in child processes, which a mutant in lib/ never reaches, and would make
// every mutant cost seconds; they stay in `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/webhooks/**/*.test.ts',
      'test/fc/**/*.test.ts',
      'test/idempotency/**/*.test.ts',
      'test/withdraw/http-request*.test.ts',
      'test/withdraw/http-path*.test.ts',
      'test/withdraw/reconcile*.test.ts',
      'test/withdraw/exclusive*.test.ts',
      'test/withdraw/delivery-once*.test.ts',
      'test/withdraw/delivery-states.test.ts',
      // Existing fast tests that pin the same promises from the caller's side.
      'test/withdraw/triggers.test.ts',
      'test/withdraw/event-shapes.test.ts',
      'test/withdraw/security.test.ts',
      'test/withdraw/callback-target.test.ts',
      'test/core/validation-corpus.test.ts',
    ],
    setupFiles: ['test/support/quiet-logs.ts'],
    // The model test runs for every mutant it covers: fewer runs than npm test's 500 keep a mutant to seconds.
    env: { MODEL_RUNS: '100' },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
