import { expect } from 'vitest';
import type { Issue } from '../../lib/core/errors';

/** Runs `fn`, expects it to throw `ErrorClass`, and returns the issues it names. */
export function issuesOf(fn: () => unknown, ErrorClass: new (...args: never[]) => Error & { issues: Issue[] }): Issue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ErrorClass);
    return (error as InstanceType<typeof ErrorClass>).issues;
  }
  throw new Error(`expected ${ErrorClass.name}`);
}
