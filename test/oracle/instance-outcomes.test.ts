import test from 'ava';
import fc from 'fast-check';
import { emptyTables, type SagaRow, type Tables } from '../../model/crdb/tables.ts';
import type { VmmState } from '../../model/common/vmm-state.ts';
import { outcomesGoal, type SledVmm } from '../../oracle/instance-outcomes.ts';
import { instanceRow } from '../helpers/records.ts';

// O-L4 and O-L5 on hand-made states: the good ones accepted, each bad one named.

function world(tables: Tables, sled: Map<string, SledVmm> | null) {
  return { sledIds: ['sled-1'], tables: () => tables, sledVmms: () => sled };
}

/** inst-1 running on vmm-1, which the sled-agent runs too. */
function running(): { tables: Tables; sled: Map<string, SledVmm> } {
  const tables = emptyTables();
  tables.instance.set('inst-1', instanceRow('inst-1', 'vmm-1'));
  tables.vmm.set('vmm-1', { id: 'vmm-1', instanceId: 'inst-1', sledId: 'sled-1', state: 'Running', gen: 3, timeCreated: 0, timeDeleted: null });
  return { tables, sled: new Map([['vmm-1', { state: 'Running', gen: 3 }]]) };
}

function saga(name: string, state: SagaRow['state'], params: Record<string, string>): SagaRow {
  return { id: `${name}-1`, name, owner: 'nexus-1', instanceId: 'inst-1', params, state, outputs: {}, undone: [], error: null };
}

test('a sled-agent running what the database has, and a sled-agent that is down, are fine', (t) => {
  const { tables, sled } = running();
  t.is(outcomesGoal(world(tables, sled)), null);
  t.is(outcomesGoal(world(tables, null)), null);
});

test('O-L4: a VMM the sled runs but the database deleted, or that no instance holds, is a zombie', (t) => {
  const { tables, sled } = running();
  tables.vmm.get('vmm-1')!.timeDeleted = 10;
  t.regex(outcomesGoal(world(tables, sled))?.message ?? '', /runs VMM vmm-1 \(Running\), which the database has deleted/);
  const held = running();
  held.tables.instance.get('inst-1')!.activePropolisId = null;
  t.is(outcomesGoal(world(held.tables, held.sled))?.invariant, 'O-L4');
  const gone = running();
  gone.tables.vmm.delete('vmm-1');
  t.is(outcomesGoal(world(gone.tables, gone.sled))?.invariant, 'O-L4');
});

test('O-L4: a Destroyed VMM kept after the database has that state; not before', (t) => {
  const { tables } = running();
  const row = tables.vmm.get('vmm-1')!;
  const sled = new Map<string, SledVmm>([['vmm-1', { state: 'Destroyed', gen: 6 }]]);
  t.is(outcomesGoal(world(tables, sled)), null, 'the database is still at Running gen 3: the sled-agent must keep it');
  Object.assign(row, { state: 'Destroyed', gen: 6 });
  t.regex(outcomesGoal(world(tables, sled))?.message ?? '', /keeps Destroyed VMM vmm-1/);
});

test('O-L5: an instance still naming a migration', (t) => {
  const { tables, sled } = running();
  tables.instance.get('inst-1')!.migrationId = 'mig-1';
  t.is(outcomesGoal(world(tables, sled))?.invariant, 'O-L5');
});

test('O-L5: an unwound start whose VMM still runs on the sled, or whose charge remains', (t) => {
  const { tables, sled } = running();
  tables.saga.set('instance-start-1', saga('instance-start', 'Failed', { instanceId: 'inst-1', vmmId: 'vmm-2', sledId: 'sled-1' }));
  t.is(outcomesGoal(world(tables, sled)), null, 'its VMM is not on the sled');
  sled.set('vmm-2', { state: 'Starting', gen: 2 });
  tables.vmm.set('vmm-2', { id: 'vmm-2', instanceId: 'inst-1', sledId: 'sled-1', state: 'SagaUnwound', gen: 3, timeCreated: 0, timeDeleted: null });
  tables.instance.get('inst-1')!.targetPropolisId = 'vmm-2'; // held, so O-L4 passes and O-L5 speaks
  t.regex(outcomesGoal(world(tables, sled))?.message ?? '', /unwound, but its VMM vmm-2 is still Starting/);
  sled.delete('vmm-2');
  tables.provisioning.set('inst-1', { instanceId: 'inst-1', vmmId: 'vmm-2', cpus: 2, ramMib: 1024 });
  t.regex(outcomesGoal(world(tables, sled))?.message ?? '', /the charge for its VMM vmm-2 remains/);
});

// A property: whatever the sled-agent's table holds, if it is exactly the live VMMs the instances
// hold (any non-Destroyed states), the tables agree.
test('O-L4 accepts any sled table that mirrors the instances\' live VMMs', (t) => {
  const states: VmmState[] = ['Starting', 'Running', 'Stopping', 'Stopped', 'Migrating', 'Rebooting'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...states), { minLength: 1, maxLength: 6 }), (picked) => {
      const tables = emptyTables();
      const sled = new Map<string, SledVmm>();
      picked.forEach((state, i) => {
        tables.instance.set(`inst-${i}`, instanceRow(`inst-${i}`, `vmm-${i}`));
        tables.vmm.set(`vmm-${i}`, { id: `vmm-${i}`, instanceId: `inst-${i}`, sledId: 'sled-1', state, gen: 2 + i, timeCreated: 0, timeDeleted: null });
        sled.set(`vmm-${i}`, { state, gen: 2 + i });
      });
      return outcomesGoal(world(tables, sled)) === null;
    }),
  );
  t.pass();
});
