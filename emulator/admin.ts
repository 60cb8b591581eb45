/**
 * The emulator's switch for trying failures by hand: `POST /_emulator/fail?ScriptId=…` makes
 * every WithdrawScriptReview of that script answer 503 ServiceUnavailable (a retryable failure:
 * the action is not performed) until `POST /_emulator/heal?ScriptId=…`. The path is the
 * emulator's own, not the gateway's; like the rest of the emulator it listens on loopback only.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const ADMIN_PREFIX = '/_emulator/';
const ADMIN_PATH = /^\/_emulator\/(fail|heal)$/;
const SCRIPT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The ScriptIds whose withdrawals fail, and the switch that sets them. */
export class FailingScripts {
  readonly #ids = new Set<string>();

  set(scriptId: string, failing: boolean): void {
    if (failing) this.#ids.add(scriptId);
    else this.#ids.delete(scriptId);
  }

  has(scriptId: string | undefined): boolean {
    return scriptId !== undefined && this.#ids.has(scriptId);
  }

  /** Answers one admin request: 200 with the new state, 400 for a bad ScriptId, 404 for another path, 405 for another method. */
  answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const verb = ADMIN_PATH.exec(url.pathname)?.[1];
    const scriptId = url.searchParams.get('ScriptId') ?? '';
    const reply = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (verb === undefined) return reply(404, { Message: 'the emulator switches are POST /_emulator/fail?ScriptId=… and POST /_emulator/heal?ScriptId=…' });
    if (req.method !== 'POST') return reply(405, { Message: `${url.pathname} takes POST` });
    if (!SCRIPT_ID.test(scriptId)) return reply(400, { Message: 'ScriptId must be a script id (letters, digits, _ and -)' });
    this.set(scriptId, verb === 'fail');
    reply(200, { ScriptId: scriptId, WithdrawScriptReview: verb === 'fail' ? 'fails with 503 ServiceUnavailable' : 'works' });
  }
}
