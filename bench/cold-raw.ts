// A fresh process that makes one hand-signed request: the cold-start floor.
import { rawWithdraw } from './raw-request';

const [endpoint, accessKeyId, accessKeySecret, securityToken, instanceId, scriptId] = process.argv.slice(2) as [string, string, string, string, string, string];
rawWithdraw({ endpoint, accessKeyId, accessKeySecret, securityToken }, instanceId, scriptId).then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);
