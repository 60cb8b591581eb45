/**
 * Small checks for the values a request or the environment carries; dependency-free, in
 * place of a schema library whose module init and schema construction cost ~6.7 ms of
 * every cold start. Each reads one value and returns it parsed, or records an Issue and
 * returns undefined: callers collect every issue, then throw once, so one refusal names
 * every bad field.
 */
import { InvalidConfigurationError, type Issue } from './errors';

/** Records `message` at `path`; returns undefined so a check can `return refuse(…)`. */
export function refuse(issues: Issue[], path: string, message: string): undefined {
  issues.push({ Path: path, Message: message });
  return undefined;
}

/** Puts `prefix.` before the paths of the issues recorded since `from` (`payload.DryRun`, `Items[3].ScriptId`). */
export function prefixPaths(issues: Issue[], from: number, prefix: string): void {
  for (let i = from; i < issues.length; i++) issues[i]!.Path = `${prefix}.${issues[i]!.Path}`;
}

/** `n` when it is an integer in [min, max]. */
function integerIn(n: number, path: string, issues: Issue[], min: number, max: number): number | undefined {
  if (!Number.isInteger(n)) return refuse(issues, path, 'must be an integer');
  const before = issues.length;
  // Past 2^53 the value is no longer exact: said so, next to the range it misses.
  if (!Number.isSafeInteger(n)) refuse(issues, path, 'must be an integer');
  if (n < min) refuse(issues, path, `must be at least ${min}`);
  if (n > max) refuse(issues, path, `must be at most ${max}`);
  return issues.length === before ? n : undefined;
}

// ---- JSON values: a request's fields, any type.

/** A required string matching `pattern`. */
export function requiredMatch(value: unknown, path: string, issues: Issue[], pattern: RegExp, message: string): string | undefined {
  if (value === undefined) return refuse(issues, path, 'is required');
  if (typeof value !== 'string') return refuse(issues, path, 'must be a string');
  return pattern.test(value) ? value : refuse(issues, path, message);
}

/** A required integer in [min, max]; text that looks like one (`"60"`) is not one. */
export function requiredInteger(value: unknown, path: string, issues: Issue[], min: number, max: number): number | undefined {
  if (value === undefined) return refuse(issues, path, 'is required');
  if (typeof value !== 'number' || !Number.isFinite(value)) return refuse(issues, path, 'must be a number');
  return integerIn(value, path, issues, min, max);
}

/** A boolean, `fallback` when absent. */
export function booleanOr(value: unknown, path: string, issues: Issue[], fallback: boolean): boolean | undefined {
  if (value === undefined) return fallback;
  return typeof value === 'boolean' ? value : refuse(issues, path, 'must be true or false');
}

const TAB_OR_NEWLINE = /[\t\n\r]/g;

/**
 * An optional absolute URL of at most `maxLength` characters (code points), trimmed. The
 * URL parser drops tabs and newlines before it parses; so does the value returned, so
 * the host it names is the host a later parse sees.
 */
export function absoluteUrl(value: unknown, path: string, issues: Issue[], maxLength: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return refuse(issues, path, 'must be an absolute URL');
  const before = issues.length;
  const trimmed = value.trim();
  let url = value;
  if (URL.canParse(trimmed)) url = trimmed.replace(TAB_OR_NEWLINE, '');
  else refuse(issues, path, 'must be an absolute URL');
  if (url.length > maxLength && codePoints(url) > maxLength) refuse(issues, path, `must be at most ${maxLength} characters`);
  return issues.length === before ? url : undefined;
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** For a strict object: one issue per key not in `known`, named by the key. */
export function unknownKeys(record: Record<string, unknown>, known: ReadonlySet<string>, issues: Issue[], message: string): void {
  // for…in, as JSON gives it: an own `__proto__` key is reported like any other.
  for (const key in record) if (!known.has(key)) refuse(issues, key, message);
}

// ---- Environment variables: text or unset. `s.yaml` renders an unset `${env(...)}` as ''.

/** Unset and blank are the same; anything else is trimmed. */
export function optionalText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** An integer in [min, max], `fallback` when unset; read as `Number(value)`, so '' is 0. */
export function integerText(value: string | undefined, path: string, issues: Issue[], min: number, max: number, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) return refuse(issues, path, 'must be a number');
  return integerIn(n, path, issues, min, max);
}

/** true/false, 1/0, yes/no; unset or '' is false. */
export function flagText(value: string | undefined, path: string, issues: Issue[]): boolean | undefined {
  switch (value) {
    case 'true':
    case '1':
    case 'yes':
      return true;
    case undefined:
    case 'false':
    case '0':
    case 'no':
    case '':
      return false;
    default:
      return refuse(issues, path, 'must be true or false');
  }
}

/** One of `values` exactly, `fallback` when unset. */
export function oneOfText<T extends string>(value: string | undefined, path: string, issues: Issue[], values: readonly T[], fallback: T): T | undefined {
  if (value === undefined) return fallback;
  return values.includes(value as T) ? (value as T) : refuse(issues, path, `must be one of ${values.join(', ')}`);
}

/** Text matching `pattern` as given (not trimmed), `fallback` when unset. */
export function matchText(value: string | undefined, path: string, issues: Issue[], pattern: RegExp, message: string, fallback: string): string | undefined {
  if (value === undefined) return fallback;
  return pattern.test(value) ? value : refuse(issues, path, message);
}

/**
 * A variable read by a parser of its own concern, given its optionalText; the parser's
 * refusal becomes issues on this variable, whatever path the parser named.
 */
export function parsedBy<T>(value: string | undefined, path: string, issues: Issue[], parse: (value: string | undefined) => T): T | undefined {
  try {
    return parse(optionalText(value));
  } catch (error) {
    if (!(error instanceof InvalidConfigurationError)) throw error;
    for (const issue of error.issues) refuse(issues, path, issue.Message);
    return undefined;
  }
}
