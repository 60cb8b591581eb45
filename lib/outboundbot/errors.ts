/**
 * Why a call failed, reduced to what the retry policy and the result need. The
 * upstream body is not kept: it is the API's business, not ours, to log.
 */
export class OutboundBotCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status of the answer; undefined when there was none (network, timeout). */
    readonly statusCode: number | undefined,
    readonly requestId: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'OutboundBotCallError';
  }
}
