import * as z from 'zod/mini';

/** Real ids are UUIDs; the rule is loose enough for any id the console shows, and strict enough to refuse anything else. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An OutboundBot `InstanceId` or `ScriptId`, wherever a request names one. */
export const idSchema = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).check(
  z.regex(ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit'),
);
