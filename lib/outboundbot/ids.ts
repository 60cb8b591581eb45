import type { Issue } from '../core/errors';
import { requiredMatch } from '../core/fields';

/** Real ids are UUIDs; the rule is loose enough for any id the console shows, and strict enough to refuse anything else. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An OutboundBot `InstanceId` or `ScriptId`, wherever a request names one; a refusal is recorded in `issues`. */
export function checkId(value: unknown, path: string, issues: Issue[]): string | undefined {
  return requiredMatch(value, path, issues, ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit');
}
