import type * as z from 'zod/mini';
import type { Issue } from './errors';

/**
 * zod's issues as ours, one path format everywhere: `Items[3].ScriptId`, `payload.DryRun`,
 * `WEBHOOK_SECRET`. An unknown key (strict objects) is reported under its own name, so the
 * answer names the field to fix; `knownKeys` lists what was expected.
 */
export function zodIssues(error: z.core.$ZodError, prefix = '', knownKeys?: readonly string[]): Issue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const hint = knownKeys ? ` (${knownKeys.join(', ')})` : '';
      return issue.keys.map((key) => ({ Path: issuePath(prefix, [...issue.path, key]), Message: `is not a known field${hint}` }));
    }
    return [{ Path: issuePath(prefix, issue.path), Message: issue.message }];
  });
}

function issuePath(prefix: string, path: readonly PropertyKey[]): string {
  const tail = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return `${prefix}${tail}`.replace(/^\./, '');
}
