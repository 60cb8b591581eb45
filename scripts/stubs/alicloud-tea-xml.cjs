// Bundle-time stand-in for @alicloud/tea-xml in dist/withdraw. The SDK only parses XML when an
// error answer says `content-type: text/xml;charset=utf-8`; OutboundBot's RPC API answers JSON.
// Should XML ever arrive, the call fails as an unreadable answer (retryable), never silently.
class TeaXmlNotBundled {
  static parseXml() {
    throw new SyntaxError('OutboundBot answered XML, which this function does not parse');
  }
}
module.exports = { __esModule: true, default: TeaXmlNotBundled };
