/**
 * What `npm start` and the CLI agree on without importing each other: server.ts starts a
 * server when loaded, so the CLI's defaults live here.
 *
 * The key pair is not a secret: it only opens the loopback server that `npm start` runs,
 * and it is published so that any FC SDK can be pointed at that server.
 */
export const LOCAL_FC_KEY = { accessKeyId: 'LTAI5tLocalFcInvokeKey', accessKeySecret: 'local-fc-invoke-secret-for-npm-start' } as const;

/** The account and region the local front end reports in FC contexts and events. */
export const LOCAL_ACCOUNT_ID = '1234567890123456';
export const LOCAL_REGION = 'cn-shanghai';

/** `npm start` listens here unless PORT says otherwise. */
export const LOCAL_DEFAULT_PORT = 9000;

/**
 * The emulator listens next to the front end (9001 beside 9000), so that the README's
 * "Invoking the built handler yourself" can name its address; PORT=0 (or a port with no
 * neighbour) leaves both to the system. EMULATOR_PORT overrides it.
 */
export function defaultEmulatorPort(port: number): number {
  return port === 0 || port >= 65_535 ? 0 : port + 1;
}

/** The local MNS endpoint (the failure queue) beside the callback receiver: 9003 beside 9000; PORT=0 leaves it to the system. MNS_PORT overrides it. */
export function defaultMnsPort(port: number): number {
  return port === 0 || port >= 65_533 ? 0 : port + 3;
}
