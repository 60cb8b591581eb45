/**
 * Adversary on issue #21's redrive: what a parked message carries, read by the built CLI
 * (`node build/cli.js redrive`) against the local stack (MNS emulator, FC front end, OutboundBot
 * emulator). Each test names the promise; `BROKE:` tests pin a break found (it.fails).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { script } from '../support/stack';
import { scriptUnderReview } from '../support/local-stack';
import { answeredWithdrawals, CLEANUP, cli, destinationBody, park, queueOf, redriveArgs, useRedriveWorld, WITHDRAW } from './redrive-helpers';

const world = useRedriveWorld();

afterEach(() => {
  const queue = queueOf(world);
  for (const m of queue.receive(16)) queue.delete(m.ReceiptHandle!);
  world.stack.emulator.reset();
});

/** A script that has sat in review for two days: the nightly cleanup's target. */
function staleReview(): { InstanceId: string; ScriptId: string } {
  const item = { InstanceId: randomUUID(), ScriptId: randomUUID() };
  world.stack.emulator.addInstance(item.InstanceId, [script(item.ScriptId, 'EXAMINE_IN_PROGRESS', Date.now() - 48 * 3_600_000)]);
  return item;
}

describe('no message is deleted before its outcome is final', () => {
  it("FIXED: a parked nightly cleanup (FC's destination message around the timer event) is rerun, or left; never deleted unrun", async () => {
    // What s.yaml's timer trigger hands the cleanup, asynchronously: when that run fails for good
    // (it timed out, say), FC parks this event as the destination message's requestPayload.
    const stale = staleReview();
    const timerEvent = { triggerTime: new Date().toISOString(), triggerName: 'nightly', payload: JSON.stringify({ InstanceId: stale.InstanceId, OlderThanMinutes: 1440, MaxWithdrawals: 200 }) };
    const id = park(world, destinationBody(JSON.stringify(timerEvent), CLEANUP));
    const out = await cli(redriveArgs(world));
    const stillParked = queueOf(world).messages().some((m) => m.MessageId === id);
    // Either the cleanup ran again (the stale review is withdrawn), or the message is still there.
    expect({ withdrawn: world.stack.emulator.withdrawals(stale.InstanceId, stale.ScriptId), stillParked, out: out.stdout }).toEqual(
      expect.objectContaining(stillParked ? { stillParked: true } : { withdrawn: 1 }),
    );
  });

  it('a parked direct cleanup run (its payload itself) is rerun and counted redriven', async () => {
    const stale = staleReview();
    const id = park(world, destinationBody(JSON.stringify({ InstanceId: stale.InstanceId, OlderThanMinutes: 1440 }), CLEANUP));
    const out = await cli(redriveArgs(world));
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(world.stack.emulator.withdrawals(stale.InstanceId, stale.ScriptId)).toBe(1);
    expect(queueOf(world).messages().map((m) => m.MessageId)).not.toContain(id);
  });

  it('FIXED: a parked cleanup rerun while OutboundBot still fails is left, not deleted as "done"', async () => {
    const stale = staleReview();
    const id = park(world, destinationBody(JSON.stringify({ InstanceId: stale.InstanceId, OlderThanMinutes: 1440 }), CLEANUP));
    world.stack.emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' }, { times: 1000 });
    const out = await cli(redriveArgs(world));
    world.stack.emulator.reset();
    expect(world.stack.emulator.withdrawals(stale.InstanceId, stale.ScriptId)).toBe(0);
    expect(out.stdout).toContain('0 redriven, 0 done, 1 left');
    expect(queueOf(world).messages().map((m) => m.MessageId)).toContain(id);
  });

  it('a parked batch whose one item still fails is left (partial batch), and the item that succeeded is withdrawn once', async () => {
    const a = scriptUnderReview(world.stack.emulator);
    const b = scriptUnderReview(world.stack.emulator);
    const id = park(world, destinationBody(JSON.stringify({ Items: [a, b] })));
    world.stack.emulator.setWithdrawalFailing(b.ScriptId, true);
    const out = await cli(redriveArgs(world));
    expect(out.code, out.stdout + out.stderr).toBe(1);
    expect(out.stdout).toContain(`left ${id}:`);
    expect(queueOf(world).messages().map((m) => m.MessageId)).toContain(id);
    world.stack.emulator.setWithdrawalFailing(b.ScriptId, false);
    const again = await cli(redriveArgs(world));
    expect(again.stdout, again.stderr).toContain('1 redriven, 0 done, 0 left');
    expect(answeredWithdrawals(world, a)).toBe(1);
    expect(answeredWithdrawals(world, b)).toBe(1);
  });

  it('a message naming another function is left, never deleted (nor another function invoked)', async () => {
    const item = scriptUnderReview(world.stack.emulator);
    const id = park(world, destinationBody(JSON.stringify(item), 'some-other-function'));
    const out = await cli(redriveArgs(world));
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`left ${id}:`);
    expect(queueOf(world).messages().map((m) => m.MessageId)).toContain(id);
    expect(answeredWithdrawals(world, item)).toBe(0);
  });
});
