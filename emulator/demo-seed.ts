/**
 * Demo data for the local dev server and printed curl examples.
 *
 * @module
 */
import type { DemoSeed, EmulatorCredential, EmulatorScript, OutboundBotEmulator } from './types';

/**
 * Installs a demo credential and an instance whose scripts cover the review states and a
 * few that cannot be withdrawn. `nowMs` anchors the `UpdateTime`s (hours to days ago) so the
 * cleanup function's age filter has something to choose from.
 */
export function seedDemo(emulator: OutboundBotEmulator, nowMs: number = Date.now()): DemoSeed {
  const hourMs = 3_600_000;
  const credential: EmulatorCredential = {
    accessKeyId: 'LTAI5tEmulatorDemoKey01',
    accessKeySecret: 'emulator-demo-secret-not-a-real-key',
  };
  const instanceId = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
  const demo = (ScriptId: string, ScriptName: string, Status: string, ageHours: number, Industry: string, Scene: string): EmulatorScript => ({
    ScriptId,
    ScriptName,
    Status,
    UpdateTime: nowMs - ageHours * hourMs,
    Industry,
    Scene,
    ScriptDescription: `${ScriptName}（演示）`,
    IsDrafted: Status === 'DRAFTED' || Status === 'EXAMINE_IN_PROGRESS',
    DebugStatus: 'PUBLISHED',
    IsDebugDrafted: false,
  });
  const scripts = [
    demo('e4e2a770-b97b-465a-80d8-06dca008c503', '信用卡分期营销', 'EXAMINE_IN_PROGRESS', 2, '金融', '电销'),
    demo('9b1c3f52-6d4e-4a8f-b2c7-1e5d9a0f3c21', '贷后还款提醒', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', 30, '金融', '催收'),
    demo('5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03', '快递签收回访', 'EXAMINE_IN_PROGRESS', 72, '物流', '回访'),
    demo('c3d8e1a4-7f2b-4b9c-a5e6-2d4f8b1c7e95', '会员续费提醒', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', 1, '零售', '通知'),
    // The one the banner's failure loop makes fail, park and redrive.
    demo('d6b4f2e8-5a1c-4e9b-8f3d-2c7a9e1b5f64', '账单分期提醒', 'EXAMINE_IN_PROGRESS', 3, '金融', '通知'),
    demo('1a6f9c3e-8b2d-4f7a-9e1c-5d3b7a2f8c46', '满意度调查', 'DRAFTED', 48, '政务', '调研'),
    demo('7e2b5d9a-1c4f-4a3e-b8d6-9f1a3c5e7b20', '保险续保通知', 'PUBLISHED', 120, '保险', '通知'),
  ];
  emulator.addCredential(credential);
  emulator.addInstance(instanceId, scripts);
  return { instanceId, scripts, credential };
}
