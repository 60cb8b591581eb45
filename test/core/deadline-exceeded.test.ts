import { describe, expect, it } from 'vitest';
import { deadlineExceeded } from '../../lib/core/deadline-exceeded';

describe('deadlineExceeded', () => {
  it('says what the deadline cut short', () => {
    expect(deadlineExceeded('before the chunk was queued', undefined)).toEqual({
      Code: 'DeadlineExceeded',
      Message: 'The invocation deadline arrived before the chunk was queued',
    });
  });

  it('names the last failure when an attempt was made', () => {
    expect(deadlineExceeded('while listing page 3', { code: 'ServiceUnavailable' })).toEqual({
      Code: 'DeadlineExceeded',
      Message: 'The invocation deadline arrived while listing page 3 (last: ServiceUnavailable)',
    });
  });
});
