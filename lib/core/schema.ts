/**
 * zod (its `zod/mini` build) as the project's one schema language: how its issues become our
 * `Issues: [{Path, Message}]`, the messages every schema shares, and schemas built on first use,
 * so a function pays only for the schemas it parses with. Each concern keeps its schemas in its
 * own folder (the item in withdraw/, the payload in cleanup/, the variables in runtime/).
 */
import * as z from 'zod/mini';
import type { Issue } from './errors';

// No `new Function` compilation of object parsers: it costs more on a cold start than it saves
// on the few objects an invocation parses.
z.config({ jitless: true });

/** `Items[3].ScriptId`, `payload.OlderThanMinutes`, `headers.x-…`: keys past 64 characters are cut, they are the sender's text. */
export function pathText(path: readonly PropertyKey[], prefix = ''): string {
  let text = prefix;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else {
      const name = String(key);
      const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
      text += text === '' ? shown : `.${shown}`;
    }
  }
  return text;
}

/** One Issue per zod issue; an unknown-keys issue becomes one per key, named by the key. */
export function issuesOf(error: Pick<z.core.$ZodError, 'issues'>, prefix = ''): Issue[] {
  const issues: Issue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ Path: pathText([...issue.path, key], prefix), Message: issue.message });
    } else {
      issues.push({ Path: pathText(issue.path, prefix), Message: issue.message });
    }
  }
  return issues;
}

/** `value` as `schema` reads it, or the refusal made from its issues (under `prefix`), thrown. */
export function parseOrRefuse<T>(schema: z.ZodMiniType<T>, value: unknown, refusal: (issues: Issue[]) => Error, prefix = ''): T {
  const result = schema.safeParse(value);
  if (!result.success) throw refusal(issuesOf(result.error, prefix));
  return result.data;
}

/** A schema built the first time it is asked for, then kept for the instance's life. */
export function onFirstUse<T>(build: () => T): () => T {
  let schema: T | undefined;
  return () => (schema ??= build());
}

/** The message for a value of the wrong type: `is required` when it is absent. */
export const typeMessage =
  (message: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : message;

/** A whole number in [min, max], with the messages of an integer field. */
export function integerIn(min: number, max: number): z.ZodMiniNumberFormat {
  return z.int({ error: (issue) => (typeof issue.input === 'number' && Number.isFinite(issue.input) ? 'must be an integer' : typeMessage('must be a number')(issue)) }).check(
    z.minimum(min, `must be at least ${min}`),
    z.maximum(max, `must be at most ${max}`),
  );
}
