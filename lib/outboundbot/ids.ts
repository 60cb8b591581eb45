import * as z from 'zod/mini';
import { onFirstUse, typeMessage } from '../core/schema';

/** Real ids are UUIDs; the rule is loose enough for any id the console shows, and strict enough to refuse anything else. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ID_RULE = 'must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit';

/** An OutboundBot `InstanceId` or `ScriptId`, wherever a request names one. */
export const idSchema = onFirstUse(() => z.string({ error: typeMessage('must be a string') }).check(z.regex(ID_PATTERN, ID_RULE)));
