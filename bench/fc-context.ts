// The event and context FC 3.0 hands a Node.js 20 handler, as the bench feeds them to the bundles.
import type { RawTarget } from './raw-request';

export interface FunctionSpec {
  name: string;
  /** Seconds, as in s.yaml. */
  timeout: number;
  /** MB, as in s.yaml. */
  memory: number;
}

/** The context object of the FC 3.0 Node.js runtime: the role's STS triple, the function, region and account. */
export function fcContext(requestId: string, role: Required<RawTarget>, fn: FunctionSpec) {
  return {
    requestId,
    credentials: { accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken },
    function: { name: fn.name, handler: 'index.handler', memory: fn.memory, timeout: fn.timeout },
    region: 'cn-shanghai',
    accountId: '1234567890123456',
    logger: console,
    tracing: { openTracingSpanContext: undefined, openTracingSpanBaggages: {}, jaegerEndpoint: undefined },
  };
}

/** A direct or async invocation: FC hands the payload over as a Buffer. */
export const invokeEvent = (payload: unknown): Buffer => Buffer.from(JSON.stringify(payload));

/** FC's timer trigger event; the cleanup's request is the JSON text in `payload`. */
export function timerEvent(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), triggerName: 'nightly-cleanup', payload: JSON.stringify(payload) }));
}

/** What every measured child gets on its command line: where the upstream is, and as whom to call it. */
export interface ChildTarget {
  role: Required<RawTarget>;
  instanceId: string;
}
