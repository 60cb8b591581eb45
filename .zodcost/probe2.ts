import * as z from 'zod/mini';
import { integerIn } from '../lib/core/schema';
const build = () => z.object({
  A: z._default(z.pipe(z.transform(Number), integerIn(1, 100)), 5),
  B: z._default(z.pipe(z.transform(Number), integerIn(1, 200)), 5),
  C: z._default(z.enum(['a', 'b'], { error: 'x' }), 'a'),
  D: z._default(z.string().check(z.regex(/^a+$/, 'x')), 'a'),
  E: z.transform((v: string | undefined) => v?.trim() || undefined),
  F: z._default(z.pipe(z.transform(Number), integerIn(1, 300)), 5),
  G: z._default(z.pipe(z.transform(Number), integerIn(1, 400)), 5),
  H: z._default(z.enum(['c', 'd'], { error: 'x' }), 'c'),
});
export const steps: Record<string, () => unknown> = {
  build1: () => (globalThis as any).s1 = build(),
  parse1: () => (globalThis as any).s1.safeParse({ A: '7', E: ' x ' }),
  build2: () => (globalThis as any).s2 = build(),
  parse2: () => (globalThis as any).s2.safeParse({ A: '7', E: ' x ' }),
  build3: () => (globalThis as any).s3 = build(),
  parse3: () => (globalThis as any).s3.safeParse({ A: '7', E: ' x ' }),
};
