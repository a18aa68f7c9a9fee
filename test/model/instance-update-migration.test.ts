// The instance-update saga's migration cases, against a real database, each test after one of
// upstream's (omicron b848b6df85 nexus/src/app/sagas/instance_update/mod.rs, MigrationTest and
// MigrationOutcome; and instance_start.rs test_actions_succeed_idempotently).
//
// Setup as upstream's MigrationTest::setup: an instance started by our instance-start saga (its
// VMM `src` Running on sled-1, charged), then migrated by our instance-migrate saga to `dst` on
// sled-2 (the target registered and stepped once: Migrating, its side of migration `m`
// InProgress). Then each side reports its outcome as upstream's update_src_state and
// update_target_state do (vmm_and_migration_update_runtime, one generation up), source first.
//
// Three runs per case, as upstream's:
// - succeeds: the start-instance-update saga runs, and `verify` (a port of MigrationTest::verify)
//   checks the result. Upstream's sled_resource_vmm records are not modelled; their counterpart
//   is the VMM record's deletion (upstream's destroyed subsaga releases the sled resources and
//   marks the VMM deleted; ours marks it deleted in mark_vmms_deleted).
// - can unwind: the parent's lock taken and the real saga's params made by hand (make_real_params),
//   the real saga fails at each node in turn by steno-style injection (saga/inject.ts, as
//   test/model/instance-update.test.ts does); the lock is then the parent's or no one's and the
//   record consistent (after_unwinding).
// - actions succeed idempotently: steno's saga_inject_repeat (action: 2) has no counterpart in our
//   executor, so `twice` wraps a saga's definition here, in the test: every node's action runs
//   twice in a row and the second result is logged, through the real executor and saga log.

import test, { type ExecutionContext } from 'ava';
import { isTerminal, type MigrationState, type SledVmmState, type VmmState } from '../../model/common/vmm-state.ts';
import type { InstanceRuntime, Tables } from '../../model/crdb/tables.ts';
import { emptyTables } from '../../model/crdb/tables.ts';
import type { NexusContext } from '../../model/nexus/context.ts';
import { updatesRequired } from '../../model/nexus/instance-update.ts';
import { executeSaga } from '../../model/nexus/saga/executor.ts';
import type { NodeResult, SagaDef, SagaOutcome, SagaRun } from '../../model/nexus/saga/saga.ts';
import { instanceMigrate, type MigrateParams } from '../../model/nexus/sagas/instance-migrate.ts';
import { instanceStart, type StartParams } from '../../model/nexus/sagas/instance-start.ts';
import { instanceUpdate, startInstanceUpdate, type RealUpdateParams } from '../../model/nexus/sagas/instance-update.ts';
import type { CallResult, Env, Flow } from '../../ports/index.ts';
import { run, withVmm } from '../helpers/db.ts';
import { driveFlow, type Call } from '../helpers/drive-flow.ts';
import { NEXUS_CONFIG } from '../helpers/records.ts';

const ctx = (env: Env, armed = false): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(), kick: () => {}, localSagas: new Set(), sagaErrors: { armed } });

// --- the world: the database for real, the sled-agents answering as the simulated ones do ---

const vmmState = (vmmId: string, state: VmmState, gen: number, migrationIn: SledVmmState['migrationIn'] = null) => ({
  type: 'VmmState',
  vmmId,
  runtime: { state, gen },
  state: { vmmState: { state, gen }, migrationIn, migrationOut: null },
});

/** A sled-agent: registers a VMM (a migration target as Migrating), runs it, steps a migration in once. */
function sledAgent(call: Call): CallResult<unknown> {
  const vmmId = call.request['vmmId'] as string;
  switch (call.request.type) {
    case 'VmmRegister':
      return { ok: true, reply: call.request['migration'] === null ? vmmState(vmmId, 'Starting', 2) : vmmState(vmmId, 'Migrating', 2) };
    case 'VmmPutState':
      return { ok: true, reply: vmmState(vmmId, 'Running', 3) };
    case 'VmmMigrateIn':
      // instance_single_step_on_sled: the target moves once, to Migrating with its side under way.
      return { ok: true, reply: vmmState(vmmId, 'Migrating', 3, { migrationId: 'm', state: 'InProgress', gen: 2 }) };
    case 'VmmUnregister':
      return { ok: true, reply: { type: 'VmmUnregistered', vmmId, state: null } };
    default:
      throw new Error(`unexpected sled-agent call ${call.request.type}`);
  }
}

const world =
  (tables: Tables, sledCalls: string[] = []) =>
  (call: Call): CallResult<unknown> => {
    if (call.to === NEXUS_CONFIG.db) return { ok: true, reply: run(tables, call.request as never) };
    sledCalls.push(`${call.to} ${call.request.type}`);
    return sledAgent(call);
  };

function must(condition: boolean, what: string): void {
  if (!condition) throw new Error(`test setup: ${what}`);
}

// --- MigrationOutcome and MigrationTest::setup ---

interface Side {
  readonly migration: MigrationState;
  readonly vmm: VmmState;
}

interface Outcome {
  readonly source?: Side;
  readonly target?: Side;
}

/** MigrationOutcome.failed: either side's migration Failed, or either VMM Failed. */
const migrationFailed = (o: Outcome): boolean => [o.source, o.target].some((s) => s !== undefined && (s.migration === 'Failed' || s.vmm === 'Failed'));

const START: StartParams = { instanceId: 'i', vmmId: 'src', sledId: 'sled-1', generation: 1, reason: 'User', lockAsRead: { updaterId: null, updaterGen: 1 } };

/** An instance `i` running on `src`, migrating to `dst` (migration `m`), each side then at its outcome. */
function migrating(outcome: Outcome): Tables {
  const tables = emptyTables();
  run(tables, { type: 'InstanceCreate', instanceId: 'i', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
  const started = driveFlow((env) => executeSaga(ctx(env), instanceStart, 'start', START), world(tables)).result;
  must(started.kind === 'Done', `instance-start ${started.kind}`);
  const row = tables.instance.get('i')!;
  const migrate: MigrateParams = {
    instanceId: 'i',
    migrationId: 'm',
    srcVmmId: 'src',
    srcSledId: 'sled-1',
    dstVmmId: 'dst',
    dstSledId: 'sled-2',
    lockAsRead: { updaterId: row.updaterId, updaterGen: row.updaterGen },
  };
  const migrated = driveFlow((env) => executeSaga(ctx(env), instanceMigrate, 'migrate', migrate), world(tables)).result;
  must(migrated.kind === 'Done', `instance-migrate ${migrated.kind}`);
  must(row.activePropolisId === 'src' && row.targetPropolisId === 'dst' && row.migrationId === 'm', 'the instance is migrating');
  must(tables.vmm.get('src')!.state === 'Running' && tables.vmm.get('dst')!.state === 'Migrating' && tables.provisioning.has('i'), 'src Running, dst Migrating, charged');
  const m = tables.migration.get('m')!;
  if (outcome.source !== undefined) {
    const src = tables.vmm.get('src')!;
    const r = run(tables, {
      type: 'VmmUpdateRuntime',
      vmmId: 'src',
      runtime: { state: outcome.source.vmm, gen: src.gen + 1 },
      migrationOut: { migrationId: 'm', state: outcome.source.migration, gen: m.sourceGen + 1 },
    });
    must(r.updated === true && m.sourceState === outcome.source.migration, 'the source outcome landed');
  }
  if (outcome.target !== undefined) {
    const dst = tables.vmm.get('dst')!;
    const r = run(tables, {
      type: 'VmmUpdateRuntime',
      vmmId: 'dst',
      runtime: { state: outcome.target.vmm, gen: dst.gen + 1 },
      migrationIn: { migrationId: 'm', state: outcome.target.migration, gen: m.targetGen + 1 },
    });
    must(r.updated === true && m.targetState === outcome.target.migration, 'the target outcome landed');
  }
  return tables;
}

// --- the checks: assert_instance_unlocked, assert_instance_record_is_consistent, MigrationTest::verify ---

type T = ExecutionContext;

/** assert_instance_record_is_consistent. */
function assertRecordConsistent(t: T, tables: Tables, what: string): void {
  const row = tables.instance.get('i')!;
  const shown = `${what}: ${row.state} active=${row.activePropolisId} target=${row.targetPropolisId} migration=${row.migrationId}`;
  if (row.state === 'Vmm') t.not(row.activePropolisId, null, `Vmm without an active VMM (${shown})`);
  else t.is(row.activePropolisId, null, `an active VMM in state ${row.state} (${shown})`);
  if (row.targetPropolisId !== null) t.not(row.migrationId, null, `a target VMM without a migration (${shown})`);
  if (row.migrationId !== null) t.is(row.state, 'Vmm', `migrating, not in the Vmm state (${shown})`);
}

/** expected_instance_state: Failed if the VMM failed, NoVmm if it is otherwise gone, else Vmm. */
const expectedInstanceState = (vmm: VmmState): InstanceRuntime['state'] => (vmm === 'Failed' ? 'Failed' : isTerminal(vmm) ? 'NoVmm' : 'Vmm');

/** MigrationTest::verify, line by line; sled resource records -> the VMM record not deleted. */
function verify(t: T, tables: Tables, outcome: Outcome): void {
  const row = tables.instance.get('i')!;
  t.is(row.updaterId, null, 'instance updater lock should have been released');
  assertRecordConsistent(t, tables, 'after the update');
  const targetVmmState = outcome.target?.vmm ?? 'Migrating';
  if (migrationFailed(outcome)) {
    t.is(row.migrationId, null, 'migration ID must be unset when a migration has failed');
    t.is(row.targetPropolisId, null, 'target VMM ID must be unset when a migration has failed');
  } else {
    if (isTerminal(targetVmmState)) {
      t.is(row.activePropolisId, null, `if the target VMM was ${targetVmmState}, it should be unset, even if a migration succeeded`);
      t.is(row.state, 'NoVmm');
    } else {
      t.is(row.activePropolisId, 'dst', 'target VMM must be in the active VMM position after migration success');
      t.is(row.state, 'Vmm');
    }
    if (outcome.target?.migration === 'Completed') {
      t.is(row.targetPropolisId, null, 'target VMM ID must be unset once target VMM reports success');
      t.is(row.migrationId, null, 'migration ID must be unset once target VMM reports success');
    } else {
      t.is(row.targetPropolisId, 'dst', 'target VMM ID must remain set until the target VMM reports success');
      t.is(row.migrationId, 'm', 'migration ID must remain set until target VMM reports success');
    }
  }
  const srcVmmState = outcome.source?.vmm ?? 'Migrating';
  t.is(tables.vmm.get('src')!.timeDeleted === null, !isTerminal(srcVmmState), 'the source VMM stays (its resources held) if and only if it is not terminal');
  t.is(tables.vmm.get('dst')!.timeDeleted === null, !isTerminal(targetVmmState), 'the target VMM stays (its resources held) if and only if it is not terminal');
  const instanceState = migrationFailed(outcome) ? expectedInstanceState(srcVmmState) : expectedInstanceState(targetVmmState);
  const hasVmm = instanceState === 'Vmm';
  t.is(tables.provisioning.has('i'), hasVmm, 'virtual provisioning resource records must exist as long as the instance has a VMM');
  t.is(tables.collection.cpus > 0, hasVmm, 'virtual provisioning collection records must exist as long as the instance has a VMM');
  t.is(row.state, instanceState);
}

// --- the three runs ---

/** make_real_params: the parent's lock taken, the snapshot read, the updates decided (and required). */
function realParams(tables: Tables): RealUpdateParams {
  const parentLock = run(tables, { type: 'UpdaterLock', instanceId: 'i', sagaId: 'parent' }).lock;
  const snapshot = run(tables, { type: 'InstanceFetch', instanceId: 'i' });
  const updates = updatesRequired(snapshot);
  must(updates !== null, "the test's precondition should require updates");
  return { instanceId: 'i', parentLock, snapshot, updates: updates! };
}

/** run_saga_basic_usage_succeeds_test: the start-instance-update saga, then verify. */
function succeeds(t: T, outcome: Outcome): void {
  const tables = migrating(outcome);
  const { result } = driveFlow((env) => executeSaga(ctx(env), startInstanceUpdate, 'siu', { instanceId: 'i' }), world(tables));
  t.is(result.kind, 'Done', 'update saga should succeed');
  t.is(tables.saga.get('siu.real')?.state, 'Done', 'the real update saga ran');
  verify(t, tables, outcome);
}

/** Choices that inject an error at the `failAt`-th node to run (0-based), and nowhere else. */
function injectAt(failAt: number): (label: string, n: number) => number {
  let drawn = 0;
  return (label, n) => (label === 'nexus.sagaInjectError' && drawn++ === failAt ? n - 1 : 0);
}

/** run_unwinding_test: action_failure_can_unwind over the real saga, after_unwinding(Some(parent)). */
function canUnwind(t: T, outcome: Outcome): void {
  for (let failAt = 0; failAt < instanceUpdate.nodes.length; failAt++) {
    const tables = migrating(outcome);
    const params = realParams(tables);
    const node = instanceUpdate.nodes[failAt]!.name;
    const { result } = driveFlow((env) => executeSaga(ctx(env, true), instanceUpdate, 'child', params), world(tables), injectAt(failAt));
    t.deepEqual(result, { kind: 'Failed', error: `${node}: injected error` }, `saga execution should have failed at ${node}`);
    t.is(tables.saga.get('child')!.state, 'Failed', `${node}: the unwinding finished (no undo step failed)`);
    const row = tables.instance.get('i')!;
    t.true(row.updaterId === null || row.updaterId === 'parent', `${node}: locked by ${row.updaterId}, not the parent start saga`);
    assertRecordConsistent(t, tables, node);
    // Ours, beyond upstream's check: the runtime is all before or all after the update.
    const runtime = { state: row.state, activePropolisId: row.activePropolisId, targetPropolisId: row.targetPropolisId, migrationId: row.migrationId };
    const { snapshot, updates } = params;
    const before = { state: snapshot.instance.state, activePropolisId: snapshot.instance.activePropolisId, targetPropolisId: snapshot.instance.targetPropolisId, migrationId: snapshot.instance.migrationId };
    const after = { state: updates.runtime.state, activePropolisId: updates.runtime.activePropolisId, targetPropolisId: updates.runtime.targetPropolisId, migrationId: updates.runtime.migrationId };
    t.true([before, after].some((r) => JSON.stringify(r) === JSON.stringify(runtime)), `${node}: the record half updated: ${JSON.stringify(runtime)}`);
  }
}

/**
 * steno's saga_inject_repeat with action 2 for every node (test_helpers::actions_succeed_idempotently):
 * each action runs twice in a row, the second result counts; `runs` counts the runs by node.
 */
function twice<P>(def: SagaDef<P>, runs: Map<string, number>): SagaDef<P> {
  return {
    ...def,
    nodes: def.nodes.map((node) => ({
      ...node,
      *action(r: SagaRun<P>): Flow<NodeResult> {
        const once = function* (): Flow<NodeResult> {
          runs.set(node.name, (runs.get(node.name) ?? 0) + 1);
          return yield* node.action(r);
        };
        const first = yield* once();
        if (!first.ok) return first;
        return yield* once();
      },
    })),
  };
}

function assertRanTwice(t: T, def: SagaDef<never>, runs: Map<string, number>): void {
  t.deepEqual(Object.fromEntries(runs), Object.fromEntries(def.nodes.map((n) => [n.name, 2])), 'every node ran twice');
}

/** run_actions_succeed_idempotently_test: the real saga, each node run twice, then verify. */
function idempotently(t: T, outcome: Outcome): void {
  const tables = migrating(outcome);
  const runs = new Map<string, number>();
  const { result } = driveFlow((env) => executeSaga(ctx(env), twice(instanceUpdate, runs), 'child', realParams(tables)), world(tables));
  t.is(result.kind, 'Done', 'Saga should have succeeded');
  assertRanTwice(t, instanceUpdate as SagaDef<never>, runs);
  verify(t, tables, outcome);
}

// --- the cases (MigrationOutcome as upstream builds each) ---

const SOURCE_COMPLETED: Outcome = { source: { migration: 'Completed', vmm: 'Stopping' } };
const TARGET_COMPLETED: Outcome = { target: { migration: 'Completed', vmm: 'Running' } };
const COMPLETED_SOURCE_DESTROYED: Outcome = { target: { migration: 'Completed', vmm: 'Running' }, source: { migration: 'Completed', vmm: 'Destroyed' } };
const TARGET_FAILED: Outcome = { target: { migration: 'Failed', vmm: 'Failed' }, source: { migration: 'Failed', vmm: 'Running' } };
const TARGET_FAILED_DESTROYED: Outcome = { target: { migration: 'Failed', vmm: 'Destroyed' }, source: { migration: 'Failed', vmm: 'Running' } };
const SOURCE_FAILED_DESTROYED: Outcome = { target: { migration: 'InProgress', vmm: 'Running' }, source: { migration: 'Failed', vmm: 'Destroyed' } };
const EVERYONE_DIED: Outcome = { target: { migration: 'Failed', vmm: 'Destroyed' }, source: { migration: 'Failed', vmm: 'Destroyed' } };
const COMPLETED_BUT_TARGET_DESTROYED: Outcome = { target: { migration: 'Completed', vmm: 'Destroyed' }, source: { migration: 'Completed', vmm: 'Stopping' } };

const UNWINDS = 'the real update saga failing at any node leaves the lock to its parent or to no one, the record consistent';
const TWICE = 'every node of the real update saga run twice: the same outcome';

// test_migration_source_completed_succeeds
test('migration source Completed, source Stopping: the target becomes active; target and migration ids stay until the target side completes', (t) => succeeds(t, SOURCE_COMPLETED));
// test_migration_source_completed_can_unwind
test(`migration source Completed, source Stopping: ${UNWINDS}`, (t) => canUnwind(t, SOURCE_COMPLETED));
// test_migration_source_completed_actions_succeed_idempotently
test(`migration source Completed, source Stopping: ${TWICE}`, (t) => idempotently(t, SOURCE_COMPLETED));

// test_migration_target_completed_succeeds
test('migration target Completed, target Running: the target becomes active and the target and migration ids are cleared; the source stays', (t) => succeeds(t, TARGET_COMPLETED));
// test_migration_target_completed_can_unwind
test(`migration target Completed, target Running: ${UNWINDS}`, (t) => canUnwind(t, TARGET_COMPLETED));
// test_migration_target_completed_actions_succeed_idempotently
test(`migration target Completed, target Running: ${TWICE}`, (t) => idempotently(t, TARGET_COMPLETED));

// test_migration_completed_source_destroyed_succeeds
test('migration Completed on both sides, source Destroyed: the target becomes active, the ids are cleared, the source deleted, still charged', (t) => succeeds(t, COMPLETED_SOURCE_DESTROYED));
// test_migration_completed_source_destroyed_can_unwind
test(`migration Completed on both sides, source Destroyed: ${UNWINDS}`, (t) => canUnwind(t, COMPLETED_SOURCE_DESTROYED));
// test_migration_completed_source_destroyed_actions_succeed_idempotently
test(`migration Completed on both sides, source Destroyed: ${TWICE}`, (t) => idempotently(t, COMPLETED_SOURCE_DESTROYED));

// test_migration_target_failed_succeeds
test('migration Failed, target VMM Failed, source Running: the ids are cleared, the instance stays on the source, the target deleted', (t) => succeeds(t, TARGET_FAILED));
// test_migration_target_failed_can_unwind
test(`migration Failed, target VMM Failed, source Running: ${UNWINDS}`, (t) => canUnwind(t, TARGET_FAILED));
// test_migration_target_failed_actions_succeed_idempotently
test(`migration Failed, target VMM Failed, source Running: ${TWICE}`, (t) => idempotently(t, TARGET_FAILED));

// test_migration_target_failed_destroyed_succeeds
test('migration Failed, target Destroyed, source Running: the ids are cleared, the instance stays on the source, the target deleted', (t) => succeeds(t, TARGET_FAILED_DESTROYED));
// test_migration_target_failed_destroyed_can_unwind
test(`migration Failed, target Destroyed, source Running: ${UNWINDS}`, (t) => canUnwind(t, TARGET_FAILED_DESTROYED));
// test_migration_target_failed_destroyed_actions_succeed_idempotently
test(`migration Failed, target Destroyed, source Running: ${TWICE}`, (t) => idempotently(t, TARGET_FAILED_DESTROYED));

// test_migration_source_failed_destroyed_succeeds
test('migration source Failed and Destroyed, target InProgress and Running: NoVmm, ids cleared, deprovisioned; the orphaned target is left', (t) => succeeds(t, SOURCE_FAILED_DESTROYED));
// test_migration_source_failed_destroyed_can_unwind
test(`migration source Failed and Destroyed, target InProgress and Running: ${UNWINDS}`, (t) => canUnwind(t, SOURCE_FAILED_DESTROYED));
// test_migration_source_failed_destroyed_actions_succeed_idempotently
test(`migration source Failed and Destroyed, target InProgress and Running: ${TWICE}`, (t) => idempotently(t, SOURCE_FAILED_DESTROYED));

// test_migration_failed_everyone_died_succeeds
test('migration Failed, both VMMs Destroyed: NoVmm, ids cleared, both VMMs deleted, deprovisioned', (t) => succeeds(t, EVERYONE_DIED));
// test_migration_failed_everyone_died_can_unwind
test(`migration Failed, both VMMs Destroyed: ${UNWINDS}`, (t) => canUnwind(t, EVERYONE_DIED));
// test_migration_failed_everyone_died_actions_succeed_idempotently
test(`migration Failed, both VMMs Destroyed: ${TWICE}`, (t) => idempotently(t, EVERYONE_DIED));

// test_migration_completed_but_target_destroyed_succeeds
test('migration Completed on both sides, then the target Destroyed, source Stopping: no active VMM, NoVmm, ids cleared, deprovisioned; the source stays', (t) => succeeds(t, COMPLETED_BUT_TARGET_DESTROYED));
// test_migration_completed_but_target_destroyed_can_unwind
test(`migration Completed on both sides, then the target Destroyed, source Stopping: ${UNWINDS}`, (t) => canUnwind(t, COMPLETED_BUT_TARGET_DESTROYED));
// test_migration_completed_but_target_destroyed_actions_succeed_idempotently
test(`migration Completed on both sides, then the target Destroyed, source Stopping: ${TWICE}`, (t) => idempotently(t, COMPLETED_BUT_TARGET_DESTROYED));

// --- the active-VMM-destroyed case, and the start saga, run twice node by node ---

/** setup_active_vmm_destroyed_test: a charged instance whose active VMM `v` is Destroyed. */
function activeVmmDestroyed(): Tables {
  const tables = withVmm('Destroyed', 5);
  run(tables, { type: 'ProvisioningInsertInstance', instanceId: 'i', vmmId: 'v' });
  must(tables.provisioning.has('i'), 'charged');
  return tables;
}

/** verify_active_vmm_destroyed. */
function verifyActiveVmmDestroyed(t: T, tables: Tables): void {
  const row = tables.instance.get('i')!;
  t.is(row.updaterId, null, 'instance updater lock should have been released');
  t.like(row, { state: 'NoVmm', activePropolisId: null });
  t.false(tables.provisioning.has('i'), 'no virtual provisioning resource records');
  t.is(tables.collection.cpus, 0, 'no virtual provisioning collection records using instances');
  t.not(tables.vmm.get('v')!.timeDeleted, null, 'the VMM deleted (no sled resource records)');
}

// test_active_vmm_destroyed_actions_succeed_idempotently
test(`an instance whose active VMM was destroyed: ${TWICE}`, (t) => {
  const tables = activeVmmDestroyed();
  const runs = new Map<string, number>();
  const { result } = driveFlow((env) => executeSaga(ctx(env), twice(instanceUpdate, runs), 'child', realParams(tables)), world(tables));
  t.is(result.kind, 'Done');
  assertRanTwice(t, instanceUpdate as SagaDef<never>, runs);
  verifyActiveVmmDestroyed(t, tables);
});

// test_start_saga_actions_succeed_idempotently
test('an instance whose active VMM was destroyed: every node of the start-instance-update saga run twice, the instance is left NoVmm, unlocked and uncharged', (t) => {
  const tables = activeVmmDestroyed();
  const runs = new Map<string, number>();
  const { result } = driveFlow((env) => executeSaga(ctx(env), twice(startInstanceUpdate, runs), 'siu', { instanceId: 'i' }), world(tables));
  t.is(result.kind, 'Done');
  assertRanTwice(t, startInstanceUpdate as SagaDef<never>, runs);
  t.is(tables.saga.get('siu.real')?.state, 'Done', 'one real update saga, run once');
  verifyActiveVmmDestroyed(t, tables);
});

// instance_start.rs test_actions_succeed_idempotently
test('instance-start with every node run twice: the saga succeeds, the VMM Running and active, charged once', (t) => {
  const tables = emptyTables();
  run(tables, { type: 'InstanceCreate', instanceId: 'i', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
  const runs = new Map<string, number>();
  const sledCalls: string[] = [];
  const { result } = driveFlow((env) => executeSaga(ctx(env), twice(instanceStart, runs), 'start', START), world(tables, sledCalls));
  t.is((result as SagaOutcome).kind, 'Done');
  assertRanTwice(t, instanceStart as SagaDef<never>, runs);
  t.is(tables.vmm.get('src')!.state, 'Running', 'running instance should have a vmm');
  t.like(tables.instance.get('i'), { state: 'Vmm', activePropolisId: 'src', updaterId: null });
  t.true(tables.provisioning.has('i'));
  t.deepEqual(tables.collection, { cpus: 2, ramMib: 1024 }, 'charged once');
  // Ours registers at most once (ensure_registered reads the record first); the run request goes twice.
  t.deepEqual(sledCalls, ['sled-1 VmmRegister', 'sled-1 VmmPutState', 'sled-1 VmmPutState']);
});
