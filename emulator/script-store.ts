/**
 * The emulator's script state: instances, their scripts in `ListScripts` order, and how many
 * withdrawals changed each script.
 *
 * @module
 */
import type { EmulatorScript } from './types';

export class ScriptStore {
  readonly #instances = new Map<string, Map<string, EmulatorScript>>();
  readonly #withdrawals = new Map<string, number>();

  /** Copies the scripts in, so the caller's objects never alias the emulator's state. */
  addInstance(instanceId: string, scripts: EmulatorScript[]): void {
    this.#instances.set(instanceId, new Map(scripts.map((s) => [s.ScriptId, { ...s }])));
  }

  /** The live scripts, for the actions to read and change; undefined for an unknown instance. */
  instance(instanceId: string): ReadonlyMap<string, EmulatorScript> | undefined {
    return this.#instances.get(instanceId);
  }

  /** A copy, so assertions cannot alter the emulator. */
  snapshot(instanceId: string, scriptId: string): EmulatorScript | undefined {
    const found = this.#instances.get(instanceId)?.get(scriptId);
    return found && { ...found };
  }

  countWithdrawal(instanceId: string, scriptId: string): void {
    const key = withdrawalKey(instanceId, scriptId);
    this.#withdrawals.set(key, (this.#withdrawals.get(key) ?? 0) + 1);
  }

  withdrawals(instanceId: string, scriptId: string): number {
    return this.#withdrawals.get(withdrawalKey(instanceId, scriptId)) ?? 0;
  }
}

function withdrawalKey(instanceId: string, scriptId: string): string {
  return `${instanceId}\n${scriptId}`;
}
