// Bundle-time stand-in for `debug` (httpx's and fc2's diagnostic logging). The real module costs
// ~4.7 ms of CPU at every cold start (it probes the terminal and the environment) to print
// nothing: its output is only enabled by a DEBUG variable that a deployed function never sets.
function createDebug() {
  const log = () => {};
  log.enabled = false;
  log.extend = createDebug;
  return log;
}
createDebug.enabled = () => false;
createDebug.enable = () => {};
createDebug.disable = () => '';
module.exports = createDebug;
