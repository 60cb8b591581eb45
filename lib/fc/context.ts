import type { FcCredentials } from '../core/credentials';

/** The parts of the FC 3.0 Node.js context this project reads. */
export interface FcContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { name?: string; timeout?: number; memory?: number };
  region?: string;
  accountId?: string;
}
