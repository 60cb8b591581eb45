// Bundle-time stand-in, in dist/cleanup, for the modules @alicloud/fc2 requires at load but only
// uses for code and layer uploads (ali-oss, axios) and log tailing (ws). The cleanup only posts
// async invocations (httpx); reaching any of these is a bug, so they fail loudly.
function notBundled() {
  throw new Error('@alicloud/fc2: only async invocation is bundled in the cleanup function');
}
module.exports = notBundled;
module.exports.get = notBundled;
