/**
 * fast-check arbitraries for the edge of the withdraw function (issue #13): JSON shaped like
 * each trigger's event, with fields missing, of the wrong type, empty, null, or carrying keys
 * that trip naive code (`toString`, `__proto__`). Drawn on purpose, not only by chance.
 */
import fc from 'fast-check';

/** Marks a field to delete rather than to set. */
export const MISSING = Symbol('missing');

/** An object with an own `__proto__` key, as JSON.parse makes it (an object literal would set the prototype). */
const protoKeyed = JSON.parse('{"__proto__":{"InstanceId":"a","ScriptId":"b"}}') as unknown;

/** Values that break code which trusts a shape: empty strings, nested nulls, keys that shadow Object.prototype. */
export const nastyJson: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  null,
  '',
  ' ',
  'null',
  '{}',
  '[]',
  'v1',
  0,
  -1,
  1.5,
  true,
  false,
  [],
  {},
  [null],
  [[]],
  { a: null },
  { http: null },
  { method: null },
);

/** JSON that code turning values into text (`String(x)`, template literals) or spreading them trips over. */
export const shadowingJson: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  { toString: 1 },
  { valueOf: {}, toString: [] },
  { toString: null, valueOf: null },
  protoKeyed,
  [{ toString: 'x' }],
  { constructor: 'x', hasOwnProperty: 1 },
);

/** Any JSON value, the nasty and shadowing ones weighted up. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: nastyJson },
  { weight: 1, arbitrary: shadowingJson },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A field's replacement: missing, nasty, or any JSON. */
export const anyField: fc.Arbitrary<unknown> = fc.oneof({ weight: 1, arbitrary: fc.constant(MISSING) }, { weight: 6, arbitrary: anyJson });

/** A copy of `value` with the field at `path` set (or deleted, for {@link MISSING}); missing parents are made. */
export function withField(value: Record<string, unknown>, path: readonly string[], replacement: unknown): Record<string, unknown> {
  const copy = structuredClone(value);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (replacement === MISSING) delete node[last];
  else Object.defineProperty(node, last, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** The bytes FC hands the handler for this event. */
export const asBytes = (event: unknown): Buffer => Buffer.from(JSON.stringify(event) ?? 'null');
