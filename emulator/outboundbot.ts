/**
 * A loopback stand-in for the Alibaba Cloud OpenAPI gateway in front of OutboundBot
 * (API version 2019-12-26): it checks ACS3-HMAC-SHA256 signatures, dates, nonces and STS
 * tokens the way the real gateway does, keeps script state, and can be told to misbehave.
 * Tests, the benchmark and the local dev server all talk to it over real HTTP, so the code
 * under test runs the same client, sockets and retries as in production.
 *
 * This is the public entry; the parts live beside it, one concern a module:
 * `server.ts` (HTTP, routing, latency), `gateway-auth.ts` (credentials, dates, tokens,
 * nonces, signatures), `faults.ts` (queued and random faults), `paging-faults.ts` (pages
 * that do not add up), `actions.ts` (the API actions), `script-store.ts` (their state),
 * `http-wire.ts`, `answers.ts`, `demo-seed.ts`.
 *
 * @module
 */
export { API_VERSION, startEmulator } from './server';
export { seedDemo } from './demo-seed';
export type {
  DemoSeed,
  EmulatorCredential,
  EmulatorOptions,
  EmulatorRequestRecord,
  EmulatorScript,
  Fault,
  OutboundBotEmulator,
  PagingFault,
  RandomFaultRates,
} from './types';
