// `npm run preview`: `s preview` (s.yaml as it would be deployed, rendered offline) with the
// secrets the deploying shell hands it shown as *** on the terminal and in s's log of the run.
import { masked, runS, secretsOf } from './serverless-devs.mjs';

const { code, stdout, stderr } = runS(['preview', ...process.argv.slice(2)], { capture: true });
const secrets = secretsOf(process.env);
process.stdout.write(masked(stdout, secrets));
process.stderr.write(masked(stderr, secrets));
process.exit(code);
