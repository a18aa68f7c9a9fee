import test from 'ava';
import { execute } from '../../model/crdb/datastore.ts';
import type { DbRequest } from '../../model/crdb/queries.ts';
import { emptyTables, type Tables } from '../../model/crdb/tables.ts';
import type { VmmState } from '../../model/common/vmm-state.ts';

function withVmm(state: VmmState, gen: number): Tables {
  const tables = emptyTables();
  execute(tables, { type: 'InstanceCreate', instanceId: 'i' }, 0);
  execute(tables, { type: 'InstanceStartVmm', instanceId: 'i', expectedGeneration: 1, vmmId: 'v', sledId: 's' }, 0);
  const vmm = tables.vmm.get('v')!;
  vmm.state = state;
  vmm.gen = gen;
  return tables;
}

const run = (tables: Tables, request: DbRequest): unknown => execute(tables, request, 10);

test('a VMM runtime write lands only at a higher generation', (t) => {
  const tables = withVmm('Running', 3);
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Stopping', gen: 3 } }), { updated: false });
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Starting', gen: 2 } }), { updated: false });
  t.is(tables.vmm.get('v')!.state, 'Running');
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Stopping', gen: 4 } }), { updated: true, instanceId: 'i' });
  t.deepEqual([tables.vmm.get('v')!.state, tables.vmm.get('v')!.gen], ['Stopping', 4]);
});

test('a deleted VMM row takes no more writes', (t) => {
  const tables = withVmm('Destroyed', 6);
  tables.vmm.get('v')!.timeDeleted = 5;
  t.like(run(tables, { type: 'VmmUpdateRuntime', vmmId: 'v', runtime: { state: 'Failed', gen: 9 } }), { found: false, updated: false });
});

test('a synthesized Failed never overwrites Destroyed or Creating, but does a Running VMM', (t) => {
  for (const state of ['Destroyed', 'Creating', 'Failed'] as const) {
    const tables = withVmm(state, 5);
    t.like(run(tables, { type: 'VmmMarkFailed', vmmId: 'v', gen: 6 }), { updated: false }, state);
    t.is(tables.vmm.get('v')!.state, state);
  }
  const running = withVmm('Running', 5);
  t.like(run(running, { type: 'VmmMarkFailed', vmmId: 'v', gen: 6 }), { updated: true });
  t.like(run(running, { type: 'VmmMarkFailed', vmmId: 'v', gen: 6 }), { updated: false }, 'not twice at one generation');
});

test('recording a start is idempotent and otherwise guarded by the state generation', (t) => {
  const tables = withVmm('Creating', 1);
  const again = { type: 'InstanceStartVmm', instanceId: 'i', expectedGeneration: 1, vmmId: 'v', sledId: 's' } as const;
  t.deepEqual(run(tables, again), { started: true }, 'the same request again succeeds');
  t.deepEqual(run(tables, { ...again, vmmId: 'w' }), { started: false }, 'another VMM does not');
  const row = tables.instance.get('i')!;
  t.deepEqual([row.state, row.activePropolisId, row.stateGeneration, row.intendedState], ['Vmm', 'v', 2, 'Running']);
});

test('the update commit folds a terminal VMM in, once, and bumps the generation by one', (t) => {
  const tables = withVmm('Destroyed', 6);
  const commit = { type: 'InstanceCommitUpdate', instanceId: 'i', expectedGeneration: 2, vmmId: 'v', newState: 'NoVmm' } as const;
  t.deepEqual(run(tables, commit), { committed: true });
  const row = tables.instance.get('i')!;
  t.deepEqual([row.state, row.activePropolisId, row.stateGeneration], ['NoVmm', null, 3]);
  t.is(tables.vmm.get('v')!.timeDeleted, 10);
  t.deepEqual(run(tables, commit), { committed: false }, 'a stale snapshot does not commit');
});

test('the update commit refuses a VMM that is no longer terminal', (t) => {
  const tables = withVmm('Running', 6);
  t.deepEqual(run(tables, { type: 'InstanceCommitUpdate', instanceId: 'i', expectedGeneration: 2, vmmId: 'v', newState: 'Failed' }), { committed: false });
});

test('the watcher lists only VMMs that should be on a sled', (t) => {
  for (const [state, listed] of [['Creating', false], ['Starting', true], ['Running', true], ['Stopped', true], ['Failed', true], ['Destroyed', false], ['SagaUnwound', false]] as const) {
    const tables = withVmm(state, 3);
    const { vmms } = run(tables, { type: 'InstanceAndVmmListBySledAgent' }) as { vmms: unknown[] };
    t.is(vmms.length === 1, listed, state);
  }
});
