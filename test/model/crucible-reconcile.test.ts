// Reconciliation's workflow (model/crucible/upstairs/reconcile.ts and node.ts), as the
// reconciliation tests of Crucible's upstairs/src/downstairs.rs drive it: each step goes to its
// clients, the next waits for all of them, and a failure or a lost client aborts it everywhere.
// Each test names the upstream tests it stands for.

import test from 'ava';
import { ProtocolPanic } from '../../model/assert.ts';
import { activationReplies, clientStates, expectLast, fromDs, reconcilingRig, toDs, type UpRig } from '../helpers/crucible-rig.ts';

const RECONCILING = ['Connecting{Reconcile, New}', 'Connecting{Reconcile, New}', 'Connecting{Reconcile, New}'];

/** reconcilingRig, checked: all three clients reconciling. */
function reconciling(): UpRig {
  const rig = reconcilingRig();
  if (clientStates(rig).join() !== RECONCILING.join()) throw new Error('setup: not reconciling');
  return rig;
}

/** Ack the step every client it was sent to is waiting on. */
function ackStep(rig: UpRig, clients: readonly number[]): void {
  const repairId = rig.proc.upstairs.reconciliation!.current!.repairId;
  for (const c of clients) fromDs(rig, c, { type: 'RepairAckId', repairId });
}

// downstairs.rs reconcile_repair_workflow_2 and reconcile_repair_workflow_1 (and the
// should_panic reconcile_rep_in_progress_bad1 and reconcile_leave_no_job_behind, whose point is
// that no step starts before the current one is done everywhere): the repair goes to the
// destinations only; two of three acks do not move the close on; acks naming another step are
// ignored.
test('reconciliation: each step waits for every client it was sent to; acks for another step move nothing', (t) => {
  const rig = reconciling();
  const flush = expectLast(rig, 0, 'ExtentFlush');
  fromDs(rig, 1, { type: 'RepairAckId', repairId: flush.repairId + 7 }); // another step's id: ignored
  t.is(rig.proc.upstairs.reconciliation!.current!.repairId, flush.repairId);
  ackStep(rig, [0]);
  const close = expectLast(rig, 0, 'ExtentClose');
  ackStep(rig, [0, 1]);
  t.is(rig.proc.upstairs.reconciliation!.current!.repairId, close.repairId, 'two of three: the close is not done');
  ackStep(rig, [2]);
  const repair = expectLast(rig, 1, 'ExtentRepair');
  t.is(expectLast(rig, 2, 'ExtentRepair').repairId, repair.repairId);
  t.false(toDs(rig, 0).some((m) => m.type === 'ExtentRepair'), 'the source is sent no repair');
  ackStep(rig, [1, 2]);
  expectLast(rig, 0, 'ExtentReopen');
  ackStep(rig, [0, 1, 2]);
  t.like(rig.proc.upstairs.state, { kind: 'Active' });
  t.deepEqual(activationReplies(rig).map((r) => r.ok), [true]);
});

// downstairs.rs reconcile_repair_inprogress_not_done: an ack from the source, whose repair step
// was skipped, is a panic (upstream asserts the same).
test('reconciliation: an ack from a client the step was not sent to is a model panic', (t) => {
  const rig = reconciling();
  ackStep(rig, [0]); // flush
  ackStep(rig, [0, 1, 2]); // close
  const repair = expectLast(rig, 1, 'ExtentRepair');
  t.throws(() => fromDs(rig, 0, { type: 'RepairAckId', repairId: repair.repairId }), { instanceOf: ProtocolPanic });
});

// downstairs.rs reconcile_repair_workflow_not_repair: a client lost mid-reconciliation aborts it:
// every reconciling client stops (NegotiationFailed), the plan is dropped, the upstairs stays
// GoActive and the activation is not answered.
test('reconciliation: a client lost mid-reconciliation aborts it everywhere; the upstairs stays GoActive', (t) => {
  const rig = reconciling();
  ackStep(rig, [0]);
  fromDs(rig, 1, { type: 'Closed', reason: 'connection reset' });
  t.deepEqual(clientStates(rig), ['Stopping(NegotiationFailed)', 'Stopping(NegotiationFailed)', 'Stopping(NegotiationFailed)']);
  t.is(rig.proc.upstairs.reconciliation, null);
  t.like(rig.proc.upstairs.state, { kind: 'GoActive' });
  t.deepEqual(activationReplies(rig), []);
});

// downstairs.rs reconcile_repair_workflow_not_repair_later: a client that reports the repair
// failed aborts the reconciliation on all three.
test('reconciliation: a repair that fails on one client aborts it on all three', (t) => {
  const rig = reconciling();
  ackStep(rig, [0]);
  ackStep(rig, [0, 1, 2]);
  const repair = expectLast(rig, 1, 'ExtentRepair');
  fromDs(rig, 1, { type: 'ExtentError', repairId: repair.repairId, error: 'source unavailable' });
  t.deepEqual(clientStates(rig), ['Stopping(NegotiationFailed)', 'Stopping(NegotiationFailed)', 'Stopping(NegotiationFailed)']);
  t.is(rig.proc.upstairs.reconciliation, null);
});
