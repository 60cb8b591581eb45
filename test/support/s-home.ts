// A HOME that a test gives Serverless Devs (`s`), and its removal. `s` leaves a detached update
// check behind that may still be writing under HOME/.s when the test is over: removal is retried
// for up to 10 s, and a directory still being written then is left to the system's tmp cleanup
// rather than failing a test whose assertions all held.
import { rmSync } from 'node:fs';

export function removeSHome(dir: string | undefined): void {
  if (dir === undefined) return;
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 100, retryDelay: 100 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw error;
  }
}
