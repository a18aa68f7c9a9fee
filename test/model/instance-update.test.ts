// The instance-update sagas against a real database, each test after one of upstream's
// (omicron nexus/src/app/sagas/instance_update/mod.rs tests): the update applied, a failure
// injected at every node in turn (as steno's saga_inject_error does in
// test_helpers::action_failure_can_unwind), and an instance deleted under the saga.

import test from 'ava';
import type { Tables } from '../../model/crdb/tables.ts';
import type { NexusContext } from '../../model/nexus/context.ts';
import { executeSaga, runSaga } from '../../model/nexus/saga/executor.ts';
import type { SagaOutcome } from '../../model/nexus/saga/saga.ts';
import { instanceUpdate, startInstanceUpdate, type RealUpdateParams } from '../../model/nexus/sagas/instance-update.ts';
import { updatesRequired } from '../../model/nexus/instance-update.ts';
import type { Env } from '../../ports/index.ts';
import { driveFlow, type Call } from '../helpers/drive-flow.ts';
import { run, withVmm } from '../helpers/db.ts';
import { NEXUS_CONFIG } from '../helpers/records.ts';

const ctx = (env: Env, armed: boolean): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(), kick: () => {}, localSagas: new Set(), sagaErrors: { armed } });

const database = (tables: Tables) => (call: Call) => ({ ok: true as const, reply: run(tables, call.request as never) });

/** Choices that inject an error at the `failAt`-th node to run (0-based), and nowhere else. */
function injectAt(failAt: number): (label: string, n: number) => number {
  let drawn = 0;
  return (label, n) => (label === 'nexus.sagaInjectError' && drawn++ === failAt ? n - 1 : 0);
}

/** An instance whose active VMM is Destroyed: the update folds it and leaves the instance NoVmm. */
function activeVmmDestroyed(): Tables {
  const tables = withVmm('Destroyed', 5);
  run(tables, { type: 'ProvisioningInsertInstance', instanceId: 'i', vmmId: 'v' });
  return tables;
}

function runStart(tables: Tables, choose: (label: string, n: number) => number = () => 0): SagaOutcome {
  return driveFlow((env) => executeSaga(ctx(env, true), startInstanceUpdate, 'start', { instanceId: 'i' }), database(tables), choose).result;
}

/** The record is all before or all after the update: the update commits in one transaction. */
function assertConsistent(t: { true(v: boolean, m?: string): void }, tables: Tables): void {
  const row = tables.instance.get('i')!;
  const before = row.state === 'Vmm' && row.activePropolisId === 'v';
  const after = row.state === 'NoVmm' && row.activePropolisId === null;
  t.true(before || after, `instance record half updated: ${row.state} with ${row.activePropolisId}`);
}

// test_active_vmm_destroyed_succeeds
test('an instance whose active VMM was destroyed is left NoVmm, unlocked and uncharged, the VMM deleted', (t) => {
  const tables = activeVmmDestroyed();
  t.is(runStart(tables).kind, 'Done');
  const row = tables.instance.get('i')!;
  t.like(row, { state: 'NoVmm', activePropolisId: null, updaterId: null });
  t.not(tables.vmm.get('v')!.timeDeleted, null);
  t.false(tables.provisioning.has('i'));
});

// test_active_vmm_destroyed_action_failure_can_unwind: the real saga fails at each node in turn;
// after unwinding, the instance is locked by the parent start saga or not at all, never by the
// child, and its record is consistent.
test('the real update saga failing at any node leaves the lock to its parent or to no one', (t) => {
  for (let failAt = 0; failAt < instanceUpdate.nodes.length; failAt++) {
    const tables = activeVmmDestroyed();
    const lock = run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'parent' }).lock;
    const snapshot = run(tables, { type: 'InstanceFetch', instanceId: 'i' });
    const params: RealUpdateParams = { instanceId: 'i', parentLock: lock, snapshot, updates: updatesRequired(snapshot)! };
    const { result } = driveFlow((env) => executeSaga(ctx(env, true), instanceUpdate, 'child', params), database(tables), injectAt(failAt));
    const node = instanceUpdate.nodes[failAt]!.name;
    t.is(result.kind, 'Failed', node);
    t.true([null, 'parent'].includes(tables.instance.get('i')!.updaterId), `${node}: locked by ${tables.instance.get('i')!.updaterId}`);
    assertConsistent(t, tables);
  }
});

// test_start_saga_action_failure_can_unwind: the start saga (and the child it runs) failing at
// each node in turn leaves the instance unlocked, for the instance_updater task to try again.
test('the start-instance-update saga failing at any node, its child included, leaves the instance unlocked', (t) => {
  const nodes = startInstanceUpdate.nodes.length + instanceUpdate.nodes.length;
  for (let failAt = 0; failAt < nodes; failAt++) {
    const tables = activeVmmDestroyed();
    const outcome = runStart(tables, injectAt(failAt));
    const row = tables.instance.get('i')!;
    t.is(row.updaterId, null, `failure #${failAt}: ${outcome.kind}, still locked`);
    assertConsistent(t, tables);
    if (outcome.kind === 'Done') t.is(row.state, 'NoVmm', `failure #${failAt} was after the commit`);
  }
});

/** An instance Stopped (NoVmm) whose VMM is gone: deletable, as upstream's test puts it by hand. */
function stopped(): Tables {
  const tables = withVmm('Destroyed', 5);
  Object.assign(tables.instance.get('i')!, { state: 'NoVmm', activePropolisId: null });
  return tables;
}

// test_start_saga_fails_when_instance_deleted
test('a start-instance-update saga for a deleted instance fails rather than waiting for a lock', (t) => {
  const tables = stopped();
  t.like(run(tables, { type: 'InstanceDelete', instanceId: 'i' }), { deleted: true });
  t.like(runStart(tables), { kind: 'Failed', error: 'lock_instance: instance no longer exists; giving up' });
});

// project_delete_instance_in_states reads the state, not the lock: a delete lands while a
// start-instance-update saga holds the lock, and that saga, resumed, finds the instance gone.
test('an instance can be deleted while an update saga holds its lock, and the saga then ends', (t) => {
  const tables = stopped();
  const lock = run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'start' }).lock;
  t.deepEqual(run(tables, { type: 'InstanceDelete', instanceId: 'i' }), { deleted: true, reason: null, lockedBy: 'start' });
  run(tables, { type: 'SagaCreate', sagaId: 'start', name: 'start-instance-update', owner: 'nexus', instanceId: 'i', params: { instanceId: 'i' } });
  run(tables, { type: 'SagaNodeDone', sagaId: 'start', node: 'lock_instance', output: lock });
  const resume = run(tables, { type: 'SagaFetch', sagaId: 'start' });
  const { result } = driveFlow((env) => runSaga(ctx(env, false), startInstanceUpdate, 'start', { instanceId: 'i' }, resume), database(tables));
  t.is(result.kind, 'Done', 'nothing to update on an instance that is gone');
  t.is(tables.saga.get('start')!.state, 'Done');
});
