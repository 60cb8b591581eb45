import { parseWithdrawConfig } from '../lib/runtime/config';
import { parseWithdrawalRequest } from '../lib/withdraw/items';
export const steps: Record<string, () => unknown> = {
  parseConfig: () => parseWithdrawConfig({ WEBHOOK_SECRET: `whsec_${Buffer.alloc(24, 7).toString('base64')}`, OUTBOUNDBOT_ENDPOINT: '127.0.0.1:9001' }),
  parseRequest: () => parseWithdrawalRequest({ InstanceId: 'a', ScriptId: 'b' }),
};
