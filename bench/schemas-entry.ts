// What the withdraw function parses with on a cold start, alone: bundled as the function is
// (minified, its own file) so that bench/schemas-cold.ts can time zod's cost by phase.
import { configVariables, parseWithdrawConfig } from '../lib/runtime/config';
import { parseWithdrawalRequest, singleRequestSchema } from '../lib/withdraw/items';

export const build = (): unknown => [configVariables.withdraw(), singleRequestSchema()];
export const parse = (): unknown => [parseWithdrawConfig({ OUTBOUNDBOT_ENDPOINT: '127.0.0.1:9001' }), parseWithdrawalRequest({ InstanceId: 'inst', ScriptId: 'script' })];
