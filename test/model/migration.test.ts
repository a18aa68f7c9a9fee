import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import type { InstanceSnapshot } from '../../model/crdb/queries.ts';
import type { MigrationRow, VmmRow } from '../../model/crdb/tables.ts';
import { instanceRow } from '../helpers/records.ts';
import { updatesRequired } from '../../model/nexus/instance-update.ts';
import type { NexusReply } from '../../model/nexus/api.ts';
import type { Process } from '../../ports/index.ts';
import { simSledAgent, type SledAgentProcess } from '../../model/sled-agent/node.ts';
import { seededChoices } from '../../sim/choice.ts';
import { Simulator } from '../../sim/simulator.ts';
import { run, withVmm } from '../helpers/db.ts';

const vmm = (id: string, state: VmmRow['state']): VmmRow => ({ id, instanceId: 'i', sledId: 's', state, gen: 5, timeCreated: 0, timeDeleted: null });
const migration = (source: MigrationRow['sourceState'], target: MigrationRow['targetState']): MigrationRow => ({
  id: 'm',
  instanceId: 'i',
  sourcePropolisId: 'src',
  targetPropolisId: 'dst',
  sourceState: source,
  sourceGen: 3,
  targetState: target,
  targetGen: 3,
  timeCreated: 0,
});
function snapshot(src: VmmRow['state'], dst: VmmRow['state'], m: MigrationRow): InstanceSnapshot {
  const instance = instanceRow('i', 'src', { stateGeneration: 7, targetPropolisId: 'dst', migrationId: 'm' });
  return { instance, activeVmm: vmm('src', src), targetVmm: vmm('dst', dst), migration: m };
}

test('UpdatesRequired: a completed migration moves the instance to its target and clears the ids', (t) => {
  const u = updatesRequired(snapshot('Destroyed', 'Running', migration('Completed', 'Completed')))!;
  t.like(u.runtime, { state: 'Vmm', activePropolisId: 'dst', targetPropolisId: null, migrationId: null, stateGeneration: 8 });
  t.false(u.deprovision, 'still charged: the instance runs on');
  t.deepEqual(u.destroyedVmms, ['src']);
  t.is(u.intended, null, 'no guest shutdown: the source was destroyed by a migration');
});

test('UpdatesRequired: the source side completing first moves the instance; the ids wait for the target side', (t) => {
  const u = updatesRequired(snapshot('Stopping', 'Migrating', migration('Completed', 'InProgress')))!;
  t.like(u.runtime, { activePropolisId: 'dst', targetPropolisId: 'dst', migrationId: 'm' });
});

test('UpdatesRequired: a failed migration clears the migration and its target; the source keeps the instance', (t) => {
  const u = updatesRequired(snapshot('Running', 'Destroyed', migration('Failed', 'Failed')))!;
  t.like(u.runtime, { state: 'Vmm', activePropolisId: 'src', targetPropolisId: null, migrationId: null });
  t.deepEqual(u.destroyedVmms, ['dst']);
  t.false(u.deprovision);
});

test('UpdatesRequired: a target gone before the migration completed counts as a failed migration', (t) => {
  const u = updatesRequired(snapshot('Running', 'Failed', migration('InProgress', 'InProgress')))!;
  t.like(u.runtime, { activePropolisId: 'src', targetPropolisId: null, migrationId: null });
});

// instance_update/mod.rs UpdatesRequired::for_instance: after the hand-over a dead target leaves
// the instance with no VMM; it is Failed only if the active (source) VMM failed, so a Failed
// target gives NoVmm, as a Destroyed one does (test_migration_completed_but_target_destroyed_*;
// until issue 13 ours made it Failed).
test('UpdatesRequired: a target that failed after the hand-over leaves the instance NoVmm, not Failed', (t) => {
  for (const dst of ['Failed', 'Destroyed'] as const) {
    const u = updatesRequired(snapshot('Stopping', dst, migration('Completed', 'Completed')))!;
    t.like(u.runtime, { state: 'NoVmm', activePropolisId: null, targetPropolisId: null, migrationId: null }, dst);
    t.true(u.deprovision);
  }
  const bothFailed = updatesRequired(snapshot('Failed', 'Failed', migration('Completed', 'Completed')))!;
  t.is(bothFailed.runtime.state, 'Failed', 'the active VMM failed: Failed');
});

test('UpdatesRequired: nothing terminal, nothing to do', (t) => {
  t.is(updatesRequired(snapshot('Migrating', 'Migrating', migration('InProgress', 'InProgress'))), null);
});

test('set_migration_ids: only from a Running source with no migration under way, idempotent, and reports land only on their own side', (t) => {
  const tables = withVmm('Running', 3);
  run(tables, { type: 'VmmInsert', vmmId: 'dst', instanceId: 'i', sledId: 's2' });
  run(tables, { type: 'MigrationInsert', migrationId: 'm', instanceId: 'i', sourcePropolisId: 'v', targetPropolisId: 'dst' });
  const set = { type: 'InstanceSetMigrationIds', instanceId: 'i', sourcePropolisId: 'v', migrationId: 'm', targetPropolisId: 'dst', stale: null } as const;
  t.deepEqual(run(tables, set), { set: true, locked: false });
  t.deepEqual(run(tables, set), { set: true, locked: false }, 'again');
  t.deepEqual(run(tables, { ...set, migrationId: 'm2', targetPropolisId: 'dst2' }), { set: false, locked: false }, 'one migration at a time');
  const report = (vmmId: string, side: 'migrationIn' | 'migrationOut', gen: number) =>
    run(tables, { type: 'VmmUpdateRuntime', vmmId, runtime: { state: 'Migrating', gen: 9 }, [side]: { migrationId: 'm', state: 'Completed', gen } });
  t.like(report('v', 'migrationIn', 4), { migrationTerminal: false }, 'the source cannot write the target side');
  t.like(report('dst', 'migrationIn', 4), { migrationTerminal: true });
  t.like(report('dst', 'migrationIn', 4), { migrationTerminal: false }, 'not twice at one generation');
  t.is(tables.migration.get('m')!.targetState, 'Completed');
});

/** Two sled-agents and a Nexus stand-in that acknowledges every report. */
function migrationWorld(): { sim: Simulator; vmms: (sled: string) => SledAgentProcess['vmms'] } {
  const sim = new Simulator({ choices: seededChoices('1'), config: runConfig({ link: { delayMsMin: 2, delayMsMax: 2, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  sim.addNode({ id: 'nexus', initDurable: () => null, boot: (): Process => ({ onCall: () => ({ type: 'Ok', state: null }) satisfies NexusReply }) });
  for (const id of ['sled-a', 'sled-b']) {
    sim.addNode(simSledAgent({ id, nexus: ['nexus'], nexusTimeoutMs: 100, progressMsMin: 10, progressMsMax: 10, publishAttempts: 10, migrationMsMax: 60, migrationFailPerMille: 0 }, new Set()));
  }
  sim.addNode({
    id: 'driver',
    initDurable: () => null,
    boot(env) {
      env.spawn('drive', (function* () {
        yield { kind: 'call', to: 'sled-a', request: { type: 'VmmRegister', vmmId: 'src', instanceId: 'i', migration: null }, timeoutMs: 100 };
        yield { kind: 'call', to: 'sled-a', request: { type: 'VmmPutState', vmmId: 'src', target: 'Running' }, timeoutMs: 100 };
        yield { kind: 'sleep', ms: 100 };
        yield { kind: 'call', to: 'sled-b', request: { type: 'VmmRegister', vmmId: 'dst', instanceId: 'i', migration: { migrationId: 'm', sledId: 'sled-a', vmmId: 'src' } }, timeoutMs: 100 };
        yield { kind: 'call', to: 'sled-b', request: { type: 'VmmMigrateIn', vmmId: 'dst' }, timeoutMs: 100 };
        return undefined;
      })());
      return {};
    },
  });
  return { sim, vmms: (sled) => (sim.node(sled).process as SledAgentProcess).vmms };
}

test('a live migration between sled-agents: the target runs once the source has handed over and shut down', (t) => {
  const { sim, vmms } = migrationWorld();
  let bothRunning = false;
  while (sim.step() !== null) {
    if (vmms('sled-a').get('src')?.state === 'Running' && vmms('sled-b').get('dst')?.state === 'Running') bothRunning = true;
  }
  t.false(bothRunning, 'never two running copies');
  const dst = vmms('sled-b').get('dst')!;
  t.like(dst, { state: 'Running', migrationIn: { migrationId: 'm', state: 'Completed' } });
  t.false(vmms('sled-a').has('src'), 'the source shut down and left once Nexus had its Destroyed state');
});

// The target halts Failed with its migration in (sled-agent common/instance.rs
// failure_after_migration_in_does_not_transition; until issue 13 ours stopped it instead).
test('a live migration whose source crashes mid-way fails on the target side', (t) => {
  const { sim, vmms } = migrationWorld();
  while (sim.step() !== null && vmms('sled-b').get('dst')?.migrationIn?.state !== 'InProgress');
  sim.crash('sled-a');
  const seen = new Set<string>();
  while (sim.step() !== null) {
    const dst = vmms('sled-b').get('dst');
    if (dst !== undefined) seen.add(`${dst.state}/${dst.migrationIn?.state}`);
  }
  t.true(seen.has('Failed/Failed'), [...seen].join(' '));
  t.false([...seen].some((s) => s.startsWith('Running')), 'the target never ran');
});
