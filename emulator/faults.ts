/**
 * Injected misbehaviour: faults queued by a test (optionally per action) and random faults
 * for load tests, and how a chosen fault replaces or delays the normal answer. Faults are
 * only consulted after authentication (see `server.ts`).
 *
 * @module
 */
import { errorAnswer, okAnswer, type Answer } from './answers';
import type { IncomingHttpHeaders } from 'node:http';
import type { Fault, RandomFaultRates } from './types';

/** The random faults in draw order, each with its share of [0, 1). */
const RANDOM_FAULTS: ReadonlyArray<{ rate: keyof RandomFaultRates; fault: Fault }> = [
  { rate: 'resetRate', fault: { kind: 'reset' } },
  { rate: 'status500Rate', fault: { kind: 'status', status: 500, code: 'InternalError' } },
  { rate: 'throttleRate', fault: { kind: 'status', status: 429, code: 'Throttling.User' } },
];

interface QueuedFault {
  fault: Fault;
  action: string | undefined;
  remaining: number;
}

interface RandomFaults {
  rates: Required<RandomFaultRates>;
  random: () => number;
}

export class FaultInjector {
  readonly #queue: QueuedFault[] = [];
  #random: RandomFaults | undefined;

  inject(fault: Fault, opts: { times?: number; action?: string } = {}): void {
    const times = opts.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
    this.#queue.push({ fault: { ...fault }, action: opts.action, remaining: times });
  }

  setRandom(rates: RandomFaultRates, random: () => number): void {
    const checked = { status500Rate: rates.status500Rate ?? 0, throttleRate: rates.throttleRate ?? 0, resetRate: rates.resetRate ?? 0 };
    let sum = 0;
    for (const [name, rate] of Object.entries(checked)) {
      if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${rate}`);
      sum += rate;
    }
    if (sum > 1 + 1e-9) throw new RangeError(`the fault rates add up to ${sum}, more than 1`);
    this.#random = sum > 0 ? { rates: checked, random } : undefined;
  }

  clear(): void {
    this.#queue.length = 0;
    this.#random = undefined;
  }

  /** The fault for this request, if any: a queued one first, so it never costs a random draw. */
  next(action: string): Fault | undefined {
    return this.#takeQueued(action) ?? this.#drawRandom();
  }

  #takeQueued(action: string): Fault | undefined {
    const index = this.#queue.findIndex((queued) => queued.action === undefined || queued.action === action);
    const queued = this.#queue[index];
    if (queued === undefined) return undefined;
    queued.remaining -= 1;
    if (queued.remaining === 0) this.#queue.splice(index, 1);
    return queued.fault;
  }

  #drawRandom(): Fault | undefined {
    if (this.#random === undefined) return undefined;
    const { rates, random } = this.#random;
    const draw = random();
    let upTo = 0;
    for (const { rate, fault } of RANDOM_FAULTS) {
      upTo += rates[rate];
      if (draw < upTo) return fault;
    }
    return undefined;
  }
}

/** Runs the action unless the fault replaces it; `delay`, `drip` and `stall` run it and still misbehave. */
export function playFault(fault: Fault | undefined, run: () => Answer, requestId: string, headers: IncomingHttpHeaders): Answer {
  switch (fault?.kind) {
    case undefined:
      return run();
    case 'status':
      return { ...errorAnswer(fault.status, fault.code, fault.message ?? `Emulated ${fault.code}.`, requestId), retryAfterSeconds: fault.retryAfterSeconds };
    case 'reset':
      return { kind: 'reset' };
    case 'hang':
      return { kind: 'hang' };
    case 'delay': {
      const answer = run();
      return answer.kind === 'json' ? { ...answer, delayMs: fault.ms } : answer;
    }
    case 'drip':
    case 'stall': {
      const answer = run();
      return answer.kind === 'json' ? { ...answer, pace: fault.kind === 'drip' ? { kind: 'drip', intervalMs: fault.intervalMs } : { kind: 'stall' } } : answer;
    }
    case 'non-json':
      return { kind: 'html' };
    case 'html-status':
      return { kind: 'html', status: fault.status };
    case 'after-commit': {
      run();
      return fault.code === undefined ? { kind: 'html', status: fault.status } : errorAnswer(fault.status, fault.code, `Emulated ${fault.code} after the action was done.`, requestId);
    }
    case 'echo-secrets':
      return errorAnswer(fault.status, 'InvalidParameter', `Rejected request with authorization=${headers.authorization} and x-acs-security-token=${headers['x-acs-security-token']}`, requestId);
    case 'answer':
      return okAnswer(requestId, fault.fields);
    case 'success-false':
      return {
        kind: 'json',
        status: 200,
        body: { HttpStatusCode: 200, Code: 'OperationFailed', Message: 'The operation failed (emulated).', RequestId: requestId, Success: false },
      };
  }
}
