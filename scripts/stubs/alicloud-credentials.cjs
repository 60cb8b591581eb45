// Bundle-time stand-in for @alicloud/credentials in dist/withdraw. The OutboundBot client is
// always given a ready credential (lib/outboundbot-client.ts), so the SDK never builds one;
// if a future SDK version starts to, this throws loudly and test/bundle.test.ts fails.
class CredentialsNotBundled {
  constructor() {
    throw new Error('@alicloud/credentials is not bundled into this function: pass Config.credential');
  }
}
module.exports = { __esModule: true, default: CredentialsNotBundled, Config: CredentialsNotBundled };
