import test from 'ava';
import { emptyTables } from '../../model/crdb/tables.ts';
import { run, withVmm } from '../helpers/db.ts';

test('a VMM runtime write lands only at a higher generation', (t) => {
  const tables = withVmm('Running', 3);
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Stopping', gen: 3 } }), { updated: false });
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Starting', gen: 2 } }), { updated: false });
  t.is(tables.vmm.get('v')!.state, 'Running');
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Stopping', gen: 4 } }), { updated: true, instanceId: 'i' });
  t.deepEqual([tables.vmm.get('v')!.state, tables.vmm.get('v')!.gen], ['Stopping', 4]);
});

test('a deleted VMM row takes no more writes; only destroyable VMMs can be deleted', (t) => {
  const running = withVmm('Running', 6);
  t.deepEqual(run(running, { type: 'VmmMarkDeleted', vmmId: 'v' }), { deleted: false });
  const tables = withVmm('Destroyed', 6);
  t.deepEqual(run(tables, { type: 'VmmMarkDeleted', vmmId: 'v' }), { deleted: true });
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Failed', gen: 9 } }), { found: false, updated: false });
});

test('a synthesized Failed never overwrites Destroyed or Creating, but does a Running VMM', (t) => {
  for (const state of ['Destroyed', 'Creating', 'Failed', 'SagaUnwound'] as const) {
    const tables = withVmm(state, 5);
    t.like(run(tables, { type: 'VmmMarkFailed', vmmId: 'v', gen: 6 }), { updated: false }, state);
    t.is(tables.vmm.get('v')!.state, state);
  }
  const running = withVmm('Running', 5);
  t.like(run(running, { type: 'VmmMarkFailed', vmmId: 'v', gen: 6 }), { updated: true });
  t.like(run(running, { type: 'VmmMarkFailed', vmmId: 'v', gen: 6 }), { updated: false }, 'not twice at one generation');
});

test('SagaUnwound: one generation up, once; a start may take over an instance on a SagaUnwound VMM', (t) => {
  const tables = withVmm('Creating', 1);
  t.like(run(tables, { type: 'VmmMarkSagaUnwound', vmmId: 'v' }), { updated: true });
  t.like(run(tables, { type: 'VmmMarkSagaUnwound', vmmId: 'v' }), { updated: false });
  t.deepEqual([tables.vmm.get('v')!.state, tables.vmm.get('v')!.gen], ['SagaUnwound', 2]);
  run(tables, { type: 'VmmInsert', vmmId: 'w', instanceId: 'i', sledId: 's' });
  t.like(run(tables, { type: 'InstanceMoveToStarting', instanceId: 'i', vmmId: 'w', expectedGeneration: 2, autoRestart: true, stale: null }), { moved: true });
  t.is(tables.instance.get('i')!.activePropolisId, 'w');
  t.is(tables.instance.get('i')!.timeLastAutoRestarted, 10);
});

test('move_to_starting is idempotent and guarded by the state generation; its undo only while nothing moved on', (t) => {
  const tables = withVmm('Creating', 1);
  const again = { type: 'InstanceMoveToStarting', instanceId: 'i', vmmId: 'v', expectedGeneration: 1, autoRestart: false, stale: null } as const;
  t.like(run(tables, again), { moved: true }, 'the same request again succeeds');
  run(tables, { type: 'VmmInsert', vmmId: 'w', instanceId: 'i', sledId: 's' });
  t.like(run(tables, { ...again, vmmId: 'w', expectedGeneration: 2 }), { moved: false }, 'another VMM cannot take a live one over');
  const row = tables.instance.get('i')!;
  t.deepEqual([row.state, row.activePropolisId, row.stateGeneration, row.intendedState], ['Vmm', 'v', 2, 'Running']);
  t.deepEqual(run(tables, { type: 'InstanceMoveToStartingUndo', instanceId: 'i', vmmId: 'w', stale: null, force: false }), { undone: false });
  t.deepEqual(run(tables, { type: 'InstanceMoveToStartingUndo', instanceId: 'i', vmmId: 'v', stale: null, force: false }), { undone: true });
  t.deepEqual([row.state, row.activePropolisId, row.stateGeneration], ['NoVmm', null, 3]);
});

// instance.rs test_instance_updater_acquires_lock, test_instance_updater_lock_is_idempotent and
// test_instance_updater_cant_unlock_someone_elses_instance_: Instance::new starts the updater
// generation at 1 (as the state generation); each change of hands moves it one up.
test('the updater lock: re-entrant, exclusive, inherited, released only by its holder', (t) => {
  const tables = withVmm('Running', 3);
  t.deepEqual([tables.instance.get('i')!.stateGeneration >= 1, tables.instance.get('i')!.updaterGen], [true, 1]);
  t.deepEqual(run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'a' }), { kind: 'Locked', lock: { id: 'a', gen: 2 } });
  t.deepEqual(run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'a' }), { kind: 'Locked', lock: { id: 'a', gen: 2 } }, 're-entrant');
  t.deepEqual(run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'b' }), { kind: 'AlreadyLocked' });
  t.deepEqual(run(tables, { type: 'UpdaterInherit', instanceId: 'i', parent: { id: 'b', gen: 2 }, child: 'c' }), { kind: 'AlreadyLocked' }, 'only from the holder');
  t.deepEqual(run(tables, { type: 'UpdaterInherit', instanceId: 'i', parent: { id: 'a', gen: 2 }, child: 'a.real' }), { kind: 'Locked', lock: { id: 'a.real', gen: 3 } });
  t.deepEqual(run(tables, { type: 'UpdaterInherit', instanceId: 'i', parent: { id: 'a', gen: 2 }, child: 'a.real' }), { kind: 'Locked', lock: { id: 'a.real', gen: 3 } }, 'again: already the child');
  t.deepEqual(run(tables, { type: 'UpdaterUnlock', instanceId: 'i', lock: { id: 'a', gen: 2 } }), { unlocked: false }, 'a stale holder cannot unlock');
  t.deepEqual(run(tables, { type: 'UpdaterUnlock', instanceId: 'i', lock: { id: 'a.real', gen: 3 } }), { unlocked: true });
  t.deepEqual([tables.instance.get('i')!.updaterId, tables.instance.get('i')!.updaterGen], [null, 4]);
});

test('commit_update: written and unlocked at once, or AlreadyDone, Conflict, NotFound', (t) => {
  const tables = withVmm('Destroyed', 6);
  const lock = run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'u' }).lock;
  const runtime = { state: 'NoVmm', stateGeneration: 3, activePropolisId: null, targetPropolisId: null, migrationId: null } as const;
  const commit = { type: 'InstanceCommitUpdate', instanceId: 'i', lock, runtime, intended: null, stale: null } as const;
  t.deepEqual(run(tables, commit), { outcome: 'Committed' });
  const row = tables.instance.get('i')!;
  t.deepEqual([row.state, row.activePropolisId, row.stateGeneration, row.updaterId, row.updaterGen], ['NoVmm', null, 3, null, 3]);
  t.deepEqual(run(tables, commit), { outcome: 'AlreadyDone' }, 'both generations moved on: someone did it');

  const conflict = withVmm('Destroyed', 6);
  const held = run(conflict, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'u' }).lock;
  conflict.instance.get('i')!.stateGeneration++; // a writer that ignored the lock (only a bug does)
  t.deepEqual(run(conflict, { ...commit, lock: held }), { outcome: 'Conflict' }, 'the state moved on under the lock');

  t.deepEqual(run(emptyTables(), commit), { outcome: 'NotFound' });
});

test('virtual provisioning: idempotent both ways; a start only charges for its active VMM and releases only its own charge', (t) => {
  const tables = withVmm('Running', 3);
  t.deepEqual(run(tables, { type: 'ProvisioningInsertInstance', instanceId: 'i', vmmId: 'other' }), { charged: false });
  t.deepEqual(run(tables, { type: 'ProvisioningInsertInstance', instanceId: 'i', vmmId: 'v' }), { charged: true });
  t.deepEqual(run(tables, { type: 'ProvisioningInsertInstance', instanceId: 'i', vmmId: 'v' }), { charged: true });
  t.deepEqual(tables.collection, { cpus: 2, ramMib: 1024 }, 'charged once');
  t.deepEqual(run(tables, { type: 'ProvisioningDeleteInstance', instanceId: 'i', vmmId: 'other' }), { released: false });
  t.deepEqual(run(tables, { type: 'ProvisioningDeleteInstance', instanceId: 'i', vmmId: null }), { released: true });
  t.deepEqual(run(tables, { type: 'ProvisioningDeleteInstance', instanceId: 'i', vmmId: null }), { released: false });
  t.deepEqual(tables.collection, { cpus: 0, ramMib: 0 });
});

test('delete: only a Stopped or Failed instance with no active VMM', (t) => {
  const tables = withVmm('Running', 3);
  t.like(run(tables, { type: 'InstanceDelete', instanceId: 'i' }), { deleted: false });
  run(tables, { type: 'InstanceMoveToStartingUndo', instanceId: 'i', vmmId: 'v', stale: null, force: false });
  t.deepEqual(run(tables, { type: 'InstanceDelete', instanceId: 'i' }), { deleted: true, reason: null });
  t.is(run(tables, { type: 'InstanceFetch', instanceId: 'i' }), null);
});

test('the background tasks\' lists', (t) => {
  for (const [state, listed] of [['Creating', false], ['Starting', true], ['Running', true], ['Stopped', true], ['Failed', true], ['Destroyed', false], ['SagaUnwound', false]] as const) {
    t.is(run(withVmm(state, 3), { type: 'InstanceAndVmmListBySledAgent' }).vmms.length === 1, listed, `watcher, ${state}`);
  }
  const failed = withVmm('Failed', 4);
  t.deepEqual(run(failed, { type: 'InstancesNeedingUpdate' }).instanceIds, ['i']);
  run(failed, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'x' });
  t.deepEqual(run(failed, { type: 'InstancesNeedingUpdate' }).instanceIds, [], 'locked instances are skipped');
  const abandoned = withVmm('SagaUnwound', 2);
  t.deepEqual(run(abandoned, { type: 'VmmListAbandoned' }).vmms, [], 'still active');
  run(abandoned, { type: 'InstanceMoveToStartingUndo', instanceId: 'i', vmmId: 'v', stale: null, force: false });
  t.is(run(abandoned, { type: 'VmmListAbandoned' }).vmms.length, 1);
});

test('runtime writes outside the update saga wait while the updater lock is held', (t) => {
  const tables = withVmm('Failed', 4);
  run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'u' });
  t.deepEqual(run(tables, { type: 'InstanceMoveToStartingUndo', instanceId: 'i', vmmId: 'v', stale: null, force: false }), { undone: false });
  t.like(run(tables, { type: 'InstanceDelete', instanceId: 'i' }), { deleted: false });
  t.deepEqual(
    run(tables, { type: 'InstanceMoveToStartingUndo', instanceId: 'i', vmmId: 'v', stale: { updaterId: null, updaterGen: 0 }, force: false }),
    { undone: true },
    'with the lock travelling in the runtime (nexus/lock-in-runtime-state) the writer clobbers it',
  );
  t.deepEqual([tables.instance.get('i')!.updaterId, tables.instance.get('i')!.updaterGen], [null, 0]);
});

// instance.rs test_updating_deleted_instance_fails: locked by a parent, then deleted (the lock does
// not stop a delete): the intent can no longer be set, and the lock can no longer be inherited.
test('a deleted instance takes no intent and its lock cannot be inherited (NotFound)', (t) => {
  const tables = withVmm('Destroyed', 5);
  Object.assign(tables.instance.get('i')!, { state: 'NoVmm', activePropolisId: null });
  const lock = run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'parent' }).lock;
  t.like(run(tables, { type: 'InstanceDelete', instanceId: 'i' }), { deleted: true, lockedBy: 'parent' });
  t.deepEqual(run(tables, { type: 'InstanceSetIntendedState', instanceId: 'i', intended: 'Running' }), { found: false });
  t.deepEqual(run(tables, { type: 'UpdaterInherit', instanceId: 'i', parent: lock, child: 'child' }), { kind: 'NotFound' });
  t.deepEqual(run(tables, { type: 'UpdaterUnlock', instanceId: 'i', lock }), { unlocked: false }, 'unlocking a deleted instance is answered, not an error (test_unlocking_a_deleted_instance_is_okay)');
});

// instance.rs test_instance_fetch_all: nothing but the instance at first; then the active VMM; then
// the target VMM and the migration too.
test('instance fetch: the instance, then with its active VMM, then with its target VMM and migration', (t) => {
  const tables = emptyTables();
  run(tables, { type: 'InstanceCreate', instanceId: 'i', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
  t.like(run(tables, { type: 'InstanceFetch', instanceId: 'i' }), { activeVmm: null, targetVmm: null, migration: null });
  run(tables, { type: 'VmmInsert', vmmId: 'v', instanceId: 'i', sledId: 's' });
  run(tables, { type: 'InstanceMoveToStarting', instanceId: 'i', vmmId: 'v', expectedGeneration: 1, autoRestart: false, stale: null });
  Object.assign(tables.vmm.get('v')!, { state: 'Running', gen: 3 });
  t.like(run(tables, { type: 'InstanceFetch', instanceId: 'i' }), { activeVmm: { id: 'v' }, targetVmm: null, migration: null });
  run(tables, { type: 'VmmInsert', vmmId: 'dst', instanceId: 'i', sledId: 's2' });
  run(tables, { type: 'MigrationInsert', migrationId: 'm', instanceId: 'i', sourcePropolisId: 'v', targetPropolisId: 'dst' });
  run(tables, { type: 'InstanceSetMigrationIds', instanceId: 'i', sourcePropolisId: 'v', migrationId: 'm', targetPropolisId: 'dst', stale: null });
  t.like(run(tables, { type: 'InstanceFetch', instanceId: 'i' }), { activeVmm: { id: 'v' }, targetVmm: { id: 'dst' }, migration: { id: 'm' } });
});

// instance.rs test_instance_set_migration_ids (the parts test/model/migration.test.ts does not
// cover): refused while the source is not Running; a second migration refused while the first
// stands, even with its target SagaUnwound, until the first is marked failed.
test('set_migration_ids: refused from a stopped source; a new migration only once the old one is marked failed', (t) => {
  const tables = withVmm('Stopped', 5);
  run(tables, { type: 'VmmInsert', vmmId: 'dst', instanceId: 'i', sledId: 's2' });
  run(tables, { type: 'MigrationInsert', migrationId: 'm', instanceId: 'i', sourcePropolisId: 'v', targetPropolisId: 'dst' });
  const set = { type: 'InstanceSetMigrationIds', instanceId: 'i', sourcePropolisId: 'v', migrationId: 'm', targetPropolisId: 'dst', stale: null } as const;
  t.like(run(tables, set), { set: false });
  Object.assign(tables.vmm.get('v')!, { state: 'Running', gen: 6 });
  t.like(run(tables, set), { set: true });
  run(tables, { type: 'VmmMarkSagaUnwound', vmmId: 'dst' });
  run(tables, { type: 'VmmInsert', vmmId: 'dst2', instanceId: 'i', sledId: 's3' });
  run(tables, { type: 'MigrationInsert', migrationId: 'm2', instanceId: 'i', sourcePropolisId: 'v', targetPropolisId: 'dst2' });
  const second = { ...set, migrationId: 'm2', targetPropolisId: 'dst2' };
  t.like(run(tables, second), { set: false }, 'the old target SagaUnwound is not enough');
  run(tables, { type: 'MigrationMarkFailed', migrationId: 'm' });
  t.like(run(tables, second), { set: true }, 'once the old migration is marked failed');
});
