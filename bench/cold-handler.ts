// A fresh process that loads the deployed bundle and serves one withdrawal, as an FC cold start does.
const [bundle, endpoint, accessKeyId, accessKeySecret, securityToken, instanceId, scriptId] = process.argv.slice(2) as [string, string, string, string, string, string, string];
process.env.OUTBOUNDBOT_ENDPOINT = endpoint;
process.env.OUTBOUNDBOT_PROTOCOL = 'http';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require(bundle) as { handler: (event: Buffer, context: unknown) => Promise<{ Success?: boolean; Code?: string }> };
const context = { requestId: 'bench-cold', credentials: { accessKeyId, accessKeySecret, securityToken }, function: { name: 'withdraw', timeout: 30 } };
handler(Buffer.from(JSON.stringify({ InstanceId: instanceId, ScriptId: scriptId })), context).then(
  (result) => process.exit(result.Success ? 0 : (process.stderr.write(`withdrawal failed: ${result.Code}\n`), 1)),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);
