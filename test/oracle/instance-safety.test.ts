import test from 'ava';
import { emptyTables, type Tables } from '../../model/crdb/tables.ts';
import { instanceRow } from '../helpers/records.ts';
import type { UserProcess } from '../../model/user/node.ts';
import { InstanceSafety } from '../../oracle/instance-safety.ts';
import type { InstanceWorld } from '../../oracle/instance-world.ts';
import type { FaultRecord, StepRecord } from '../../sim/simulator.ts';

const step: StepRecord = { index: 1, timeMs: 0, kind: 'timer', node: 'x', from: null, envelope: null, message: null };

function fixture(): { tables: Tables; faults: FaultRecord[]; lastAsked: Map<string, 'start' | 'stop'>; safety: InstanceSafety } {
  const tables = emptyTables();
  tables.instance.set('i', instanceRow('i', 'v'));
  tables.provisioning.set('i', { instanceId: 'i', vmmId: 'v', cpus: 2, ramMib: 1024 });
  Object.assign(tables.collection, { cpus: 2, ramMib: 1024 });
  tables.vmm.set('v', { id: 'v', instanceId: 'i', sledId: 'sled-1', state: 'Running', gen: 3, timeCreated: 100, timeDeleted: null });
  const faults: FaultRecord[] = [];
  const lastAsked = new Map<string, 'start' | 'stop'>();
  const user = { lastAsked, finished: new Set<string>(), abandoned: [] } as unknown as UserProcess;
  const world: InstanceWorld = { sledIds: ['sled-1'], tables: () => tables, user: () => user, faultLog: () => faults };
  return { tables, faults, lastAsked, safety: new InstanceSafety(world) };
}

test('O-I1: a VMM generation going down, or a state change at the same generation, is caught', (t) => {
  const { tables, safety } = fixture();
  t.is(safety.afterStep(step), null);
  tables.vmm.get('v')!.gen = 2;
  tables.writes++;
  t.is(safety.afterStep(step)?.invariant, 'O-I1');
  const again = fixture();
  again.safety.afterStep(step);
  again.tables.vmm.get('v')!.state = 'Stopping';
  again.tables.writes++;
  t.regex(again.safety.afterStep(step)?.message ?? '', /without a higher generation/);
});

test("O-I5: a 404 for a VMM the database does not show terminal, unless the sled-agent's crash lost it", (t) => {
  const { safety, faults } = fixture();
  safety.onSend('sled-1', 'nexus', { type: 'CpapiVmmPut', vmmId: 'v', state: { vmmState: { state: 'Destroyed', gen: 4 }, migrationIn: null, migrationOut: null } }, 'req');
  safety.onSend('sled-1', 'nexus', { type: 'NoSuchInstance', vmmId: 'v' }, 'rep');
  t.is(safety.afterStep(step)?.invariant, 'O-I5');
  faults.push({ kind: 'crash', nodes: ['sled-1'], description: 'crash sled-1', startMs: 150, endMs: 200 });
  safety.onSend('sled-1', 'nexus', { type: 'NoSuchInstance', vmmId: 'v' }, 'rep');
  t.is(safety.afterStep(step), null, 'a crash after the VMM was created explains it');
});

test('O-I5 does not fire for a VMM the sled-agent never had, nor once the database shows it terminal', (t) => {
  const { safety, tables } = fixture();
  safety.onSend('sled-1', 'nexus', { type: 'NoSuchInstance', vmmId: 'v' }, 'rep');
  t.is(safety.afterStep(step), null);
  safety.onSend('sled-1', 'nexus', { type: 'CpapiVmmPut', vmmId: 'v', state: { vmmState: { state: 'Destroyed', gen: 4 }, migrationIn: null, migrationOut: null } }, 'req');
  Object.assign(tables.vmm.get('v')!, { state: 'Destroyed', gen: 4 });
  tables.writes++;
  safety.onSend('sled-1', 'nexus', { type: 'NoSuchInstance', vmmId: 'v' }, 'rep');
  t.is(safety.afterStep(step), null);
});

test('O-I6: becoming Failed after a stop is caught unless a crash of its sled-agent explains it', (t) => {
  const fail = (f: ReturnType<typeof fixture>): void => {
    Object.assign(f.tables.instance.get('i')!, { state: 'Failed', activePropolisId: null, stateGeneration: 3 });
    f.tables.provisioning.delete('i');
    Object.assign(f.tables.collection, { cpus: 0, ramMib: 0 });
    f.tables.writes++;
  };
  const plain = fixture();
  plain.lastAsked.set('i', 'stop');
  t.is(plain.safety.afterStep(step), null);
  fail(plain);
  t.is(plain.safety.afterStep(step)?.invariant, 'O-I6');

  const asked = fixture();
  asked.lastAsked.set('i', 'start');
  asked.safety.afterStep(step);
  fail(asked);
  t.is(asked.safety.afterStep(step), null, 'Failed after a start is not O-I6');

  const early = fixture();
  early.lastAsked.set('i', 'stop');
  early.faults.push({ kind: 'crash', nodes: ['sled-1'], description: 'crash sled-1', startMs: 50, endMs: 60 });
  early.faults.push({ kind: 'partition', nodes: ['nexus', 'sled-1'], description: 'partition', startMs: 150, endMs: 160 });
  early.safety.afterStep(step);
  fail(early);
  t.is(early.safety.afterStep(step)?.invariant, 'O-I6', 'neither a crash before the VMM existed nor a partition explains it');

  const crashed = fixture();
  crashed.lastAsked.set('i', 'stop');
  crashed.faults.push({ kind: 'crash', nodes: ['sled-1'], description: 'crash sled-1', startMs: 150, endMs: 160 });
  crashed.safety.afterStep(step);
  fail(crashed);
  t.is(crashed.safety.afterStep(step), null);
});

test('O-I3, O-I4, O-I7: lock, generation and provisioning records', (t) => {
  const lock = fixture();
  lock.safety.afterStep(step);
  Object.assign(lock.tables.instance.get('i')!, { updaterId: 'ghost', updaterGen: 1 });
  lock.tables.writes++;
  t.regex(lock.safety.afterStep(step)?.message ?? '', /locked by ghost/);

  const gen = fixture();
  gen.safety.afterStep(step);
  gen.tables.instance.get('i')!.stateGeneration = 4;
  gen.tables.writes++;
  t.is(gen.safety.afterStep(step)?.invariant, 'O-I4');

  const charge = fixture();
  charge.safety.afterStep(step);
  charge.tables.provisioning.delete('i');
  charge.tables.writes++;
  t.is(charge.safety.afterStep(step)?.invariant, 'O-I7', 'totals no longer add up');
  Object.assign(charge.tables.collection, { cpus: 0, ramMib: 0 });
  charge.tables.writes++;
  t.regex(charge.safety.afterStep(step)?.message ?? '', /runs VMM v but no provisioning is charged/);
  charge.tables.saga.set('s', { id: 's', name: 'instance-start', owner: 'n', instanceId: 'i', params: null, state: 'Running', outputs: {}, undone: [], error: null });
  charge.tables.sagasInFlight.set('i', 1);
  charge.tables.writes++;
  t.is(charge.safety.afterStep(step), null, 'a saga at work on the instance explains it');

  // An update saga released the charge of a VMM that is gone, then failed before its commit
  // (siu_release_virtual_provisioning has no undo): uncharged until the next update, no loss.
  const released = fixture();
  released.safety.afterStep(step);
  released.tables.provisioning.delete('i');
  Object.assign(released.tables.collection, { cpus: 0, ramMib: 0 });
  released.tables.vmm.get('v')!.state = 'Destroyed';
  released.tables.vmm.get('v')!.gen = 4;
  released.tables.writes++;
  t.is(released.safety.afterStep(step), null, 'a Destroyed active VMM may be uncharged');
});
