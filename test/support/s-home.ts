// A HOME that a test gives Serverless Devs (`s`), and its removal. `s` leaves a detached update
// check behind that may still be writing under HOME/.s when the test is over (for more than 10 s
// when it cannot reach its registry): removal is retried for 1.5 s, and a directory still being
// written then is left to the system's tmp cleanup rather than failing a test whose assertions held.
import { rmSync } from 'node:fs';

export function removeSHome(dir: string | undefined): void {
  if (dir === undefined) return;
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw error;
  }
}
