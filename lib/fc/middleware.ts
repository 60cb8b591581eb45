import type { MiddlewareObj } from '@middy/core';
import type { FcContext } from './context';
import { mapInvocationError, type FailedInvocation } from './error-mapping';

/**
 * The FC context as the handler sees it behind `invocationScopeOpener`: carrying the scope
 * the middleware opened. Middy hands its handler only the event and the context, so the
 * context is where a middleware puts what it made for the handler.
 */
export type ScopedContext<Scope> = FcContext & { invocationScope?: Scope };

type FcMiddleware<Scope> = MiddlewareObj<unknown, unknown, Error, ScopedContext<Scope>>;

/** `before`: opens the invocation's scope (start time, deadline, cold start, logger) for the handler and `invocationErrorMapper`. */
export function invocationScopeOpener<Scope>(open: (context: FcContext) => Scope): FcMiddleware<Scope> {
  return {
    name: 'invocationScopeOpener',
    before: (request) => {
      request.context.invocationScope = open(request.context);
    },
  };
}

/**
 * `onError`: what the handler threw goes through `mapInvocationError`. An answer becomes the
 * response; otherwise the response stays unset and middy rethrows the error, the very object
 * thrown (a middleware that threw it again would have middy tag it with itself as `originalError`).
 */
export function invocationErrorMapper<Scope extends FailedInvocation>(nowMs: () => number): FcMiddleware<Scope> {
  return {
    name: 'invocationErrorMapper',
    onError: (request) => {
      const scope = request.context.invocationScope;
      // No scope: the invocation failed before it was opened, and there is nothing to answer with.
      if (scope === undefined) return;
      const verdict = mapInvocationError(request.error, scope, nowMs());
      if (verdict.kind === 'answer') request.response = verdict.response;
    },
  };
}
