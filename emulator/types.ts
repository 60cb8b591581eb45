/**
 * The emulator's public types: what tests, the benchmark and the local stack configure and
 * inspect. Re-exported by `emulator/outboundbot.ts`.
 *
 * @module
 */

/** An AccessKey pair the emulator accepts; with `securityToken` it behaves as an STS credential. */
export interface EmulatorCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Only for STS credentials: requests after this instant are refused `InvalidSecurityToken.Expired`. */
  expiresAtMs?: number;
}

/**
 * A script as `ListScripts`, `QueryScriptsByStatus`, `DescribeScript` and
 * `WithdrawScriptReview` report it. `UpdateTime` is epoch ms.
 */
export interface EmulatorScript {
  ScriptId: string;
  ScriptName: string;
  Status: string;
  UpdateTime: number;
  Industry?: string;
  Scene?: string;
  ScriptDescription?: string;
  IsDrafted?: boolean;
  DebugStatus?: string;
  IsDebugDrafted?: boolean;
}

/** A misbehaviour to play instead of (or, for `delay`, on top of) a normal answer. */
export type Fault =
  /** An error answer, e.g. 500 InternalError, 503 ServiceUnavailable, 429 Throttling.User. */
  | { kind: 'status'; status: number; code: string; message?: string; retryAfterSeconds?: number }
  /** The socket is destroyed before any answer: the client sees a connection reset. */
  | { kind: 'reset' }
  /** No answer until the client gives up or the emulator closes. The action is not performed. */
  | { kind: 'hang' }
  /**
   * The action IS performed at once; only the answer is late. This is the ambiguous case a
   * client timeout creates in production: a retry finds the script already withdrawn.
   */
  | { kind: 'delay'; ms: number }
  /** 200 with an HTML page, as a misrouted proxy or captive portal would answer. */
  | { kind: 'non-json' }
  /** 200 whose body says `Success: false` (code `OperationFailed`): a 2xx is not proof of success. */
  | { kind: 'success-false' }
  /** A success envelope (200, `Success: true`) around these fields instead of the action's: an answer whose shape changed. The action is not performed. */
  | { kind: 'answer'; fields: Record<string, unknown> }
  /**
   * The action IS performed; the headers go out at once and the body follows one byte every
   * `intervalMs`: a slow-dripping answer that no idle-socket timeout ever cuts.
   */
  | { kind: 'drip'; intervalMs: number }
  /** The action IS performed; the headers and half the body go out, then nothing more. */
  | { kind: 'stall' }
  /** An HTML error page with this status, as a gateway or WAF answers (e.g. 403); the action is not performed. */
  | { kind: 'html-status'; status: number }
  /**
   * An error answer whose Message echoes the request's Authorization header and STS token, as a
   * careless upstream or proxy might; the action is not performed.
   */
  | { kind: 'echo-secrets'; status: number }
  /**
   * The action IS performed, then a gateway in front answers an error instead of the result: an
   * HTML page with `status` (502, 504), or with `code` a JSON error such as 504 ServiceTimeout.
   */
  | { kind: 'after-commit'; status: number; code?: string };

/**
 * A listing that does not page consistently, for `ListScripts` and `QueryScriptsByStatus`
 * alike; see {@link OutboundBotEmulator.setPagingFault}. Only how pages are cut changes,
 * never the scripts.
 */
export type PagingFault =
  /** Every page is answered as page 1 (and says `PageNumber: 1`), whatever PageNumber asks. */
  | { kind: 'ignore-page-number' }
  /**
   * Page n is cut as if `perPage`·(n−1) scripts had been created at the head of the list since
   * page 1: its TotalCount is that much larger and it starts that much earlier, so it repeats
   * the last `perPage` scripts of the page before, and the new scripts are never listed.
   */
  | { kind: 'growing-total'; perPage: number }
  /**
   * Page n is cut as if `perPage`·(n−1) scripts had left the head of the list since page 1 (a
   * reviewer acted on them): its TotalCount is that much smaller and it starts that much later,
   * so the first `perPage` scripts that page 1 did not reach are skipped, never listed, while
   * the count listed still matches the last TotalCount.
   */
  | { kind: 'shrinking-total'; perPage: number };

/**
 * Per-request odds of a fault, for load tests: each authenticated request that no queued
 * fault ({@link OutboundBotEmulator.injectFault}) claims draws once and plays at most one of
 * these. Rates are probabilities in [0, 1]; their sum must not exceed 1. Unset means 0.
 */
export interface RandomFaultRates {
  /** 500 `InternalError`; the action is not performed. */
  status500Rate?: number;
  /** 429 `Throttling.User` (no `retry-after`); the action is not performed. */
  throttleRate?: number;
  /** The connection is reset before any answer; the action is not performed. */
  resetRate?: number;
}

/** One received request, refused or not. */
export interface EmulatorRequestRecord {
  /** The `x-acs-action` header, '' when absent. */
  action: string;
  /** Parameters from the query string and any form body (query wins). */
  query: Record<string, string>;
  /** From the Authorization header, whether or not the key is known. */
  accessKeyId?: string;
  /** HTTP status answered; 0 when the connection was reset or never answered. */
  status: number;
  /** The `Code` of the JSON answer; '' when the answer had none (HTML, reset, hang). */
  code: string;
  /** `now()` when the request arrived. */
  atMs: number;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port, read it back from {@link OutboundBotEmulator.port}. */
  port?: number;
  credentials?: EmulatorCredential[];
  /** Epoch-ms clock for date checks, token expiry and `UpdateTime`; default `Date.now`. */
  now?: () => number;
  /** Added to every answer; see {@link OutboundBotEmulator.setLatency}. */
  latencyMs?: number;
  /** How far `x-acs-date` may be from `now()`, and how long nonces are remembered. Default 15 min. */
  maxClockSkewMs?: number;
  /** Actions answered as unknown to the gateway; see {@link OutboundBotEmulator.setDisabledActions}. */
  disabledActions?: readonly string[];
}

export interface OutboundBotEmulator {
  /** `host:port`, the form `OUTBOUNDBOT_ENDPOINT` and the SDK's `Config.endpoint` take. */
  readonly endpoint: string;
  readonly port: number;
  /** Replaces any credential with the same AccessKeyId. */
  addCredential(credential: EmulatorCredential): void;
  /** Replaces the instance; the scripts are copied, their order is the `ListScripts` order. */
  addInstance(instanceId: string, scripts: EmulatorScript[]): void;
  /** A copy of the script's current state, so assertions cannot alter the emulator. */
  script(instanceId: string, scriptId: string): EmulatorScript | undefined;
  /** Every request received, including refused ones, oldest first. */
  readonly requests: ReadonlyArray<Readonly<EmulatorRequestRecord>>;
  /** TCP connections accepted so far: proves (or disproves) keep-alive reuse by a client. */
  readonly connections: number;
  /** How many withdrawals actually changed this script: the double-withdrawal detector. */
  withdrawals(instanceId: string, scriptId: string): number;
  /** A reviewer (or the console) moves a script to `status` now, `UpdateTime` included: an approval is `PUBLISHED`. */
  review(instanceId: string, scriptId: string, status: string): void;
  /**
   * From now on (`failing` true) every WithdrawScriptReview of this ScriptId, in any instance,
   * answers 503 ServiceUnavailable without acting, until it is set false again. The same switch
   * is `POST /_emulator/fail?ScriptId=…` and `…/heal?ScriptId=…` on the emulator's port.
   */
  setWithdrawalFailing(scriptId: string, failing: boolean): void;
  /**
   * Plays `fault` for the next `times` (default 1) authenticated requests, optionally only for
   * one action. Faults are queued: the oldest matching one is used first. Faults come after
   * authentication so that a client's signing bugs are never masked by an injected error.
   */
  injectFault(fault: Fault, opts?: { times?: number; action?: string }): void;
  /**
   * From now on, every authenticated request of any action that no queued fault claims plays
   * a fault at random with the given odds (see {@link RandomFaultRates}); like queued faults,
   * they come after authentication. `random` (uniform in [0, 1), default `Math.random`) makes a
   * run reproducible. All rates 0, or {@link reset}, turns them off.
   */
  setRandomFaults(rates: RandomFaultRates, random?: () => number): void;
  /**
   * From now on the listing actions cut their pages with this fault ({@link PagingFault});
   * `undefined`, or {@link reset}, turns it off. Like every fault, off by default.
   * @throws RangeError for a `growing-total` whose `perPage` is not a positive integer.
   */
  setPagingFault(fault: PagingFault | undefined): void;
  /**
   * From now on these actions (replacing any earlier list; `[]` re-enables all) get the
   * gateway's answer for an action it does not serve, 404 `InvalidAction.NotFound`, before
   * authentication, as a region or account without the API would. Lets a caller's fallback
   * (e.g. `QueryScriptsByStatus` → `ListScripts`) be tested. Kept by {@link reset}: it is
   * configuration, like the latency.
   */
  setDisabledActions(actions: readonly string[]): void;
  /** Delay added to every answer, including refusals (the batch benchmark uses 20 ms). */
  setLatency(ms: number): void;
  /** Forgets pending, random and paging faults and the request log; scripts, credentials, counts and nonces stay. */
  reset(): void;
  /** Stops listening and destroys every connection, including hung and idle keep-alive ones. */
  close(): Promise<void>;
}

/** The demo data {@link seedDemo} installs; fixed ids so printed curl lines keep working. */
export interface DemoSeed {
  instanceId: string;
  scripts: EmulatorScript[];
  credential: EmulatorCredential;
}
