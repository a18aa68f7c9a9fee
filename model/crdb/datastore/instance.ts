// Instance records: create, read, the intended state, and the runtime writes of the start and
// stop paths. Every runtime write bumps state_generation by exactly one.

import { panic } from '../../assert.ts';
import type { AutoRestartPolicy, IntendedState } from '../../common/vmm-state.ts';
import type { InstanceSnapshot, StaleLockFields } from '../queries.ts';
import { write, type InstanceRow, type InstanceRuntime, type Tables, type VmmRow } from '../tables.ts';

export function instanceCreate(tables: Tables, r: { instanceId: string; ncpus: number; memoryMib: number; autoRestartPolicy: AutoRestartPolicy }): { created: boolean } {
  if (tables.instance.has(r.instanceId)) return { created: false };
  write(tables, () =>
    tables.instance.set(r.instanceId, {
      id: r.instanceId,
      ncpus: r.ncpus,
      memoryMib: r.memoryMib,
      state: 'NoVmm',
      stateGeneration: 1,
      activePropolisId: null,
      targetPropolisId: null,
      migrationId: null,
      intendedState: 'Stopped',
      updaterId: null,
      updaterGen: 1, // Instance::new: the updater generation starts at 1, as the state generation does
      autoRestartPolicy: r.autoRestartPolicy,
      timeLastAutoRestarted: null,
      timeDeleted: null,
    }),
  );
  if (tables.instance.get(r.instanceId)?.stateGeneration !== 1) panic(`instance ${r.instanceId}: created, but not at generation 1`);
  return { created: true };
}

export function liveInstance(tables: Tables, instanceId: string): InstanceRow | null {
  const row = tables.instance.get(instanceId);
  return row === undefined || row.timeDeleted !== null ? null : row;
}

export function instanceFetch(tables: Tables, instanceId: string): InstanceSnapshot | null {
  const row = liveInstance(tables, instanceId);
  if (row === null) return null;
  const migration = row.migrationId === null ? undefined : tables.migration.get(row.migrationId);
  return {
    instance: { ...row },
    activeVmm: vmmCopy(tables, row.activePropolisId),
    targetVmm: vmmCopy(tables, row.targetPropolisId),
    migration: migration === undefined ? null : { ...migration },
  };
}

function vmmCopy(tables: Tables, id: string | null): VmmRow | null {
  if (id === null) return null;
  const vmm = tables.vmm.get(id);
  if (vmm === undefined) panic(`an instance points at a missing VMM ${id}`);
  return { ...vmm };
}

export function instanceSetIntendedState(tables: Tables, instanceId: string, intended: IntendedState): { found: boolean } {
  const row = liveInstance(tables, instanceId);
  if (row === null) return { found: false };
  if (row.intendedState !== intended) write(tables, () => (row.intendedState = intended));
  return { found: true };
}

export function instanceMoveToStarting(
  tables: Tables,
  r: { instanceId: string; vmmId: string; expectedGeneration: number; autoRestart: boolean; stale: StaleLockFields },
  nowMs: number,
): { moved: boolean; locked: boolean } {
  const row = liveInstance(tables, r.instanceId);
  if (row === null) return { moved: false, locked: false };
  if (row.activePropolisId === r.vmmId) return { moved: true, locked: false }; // idempotent, like every saga action
  if (row.stateGeneration !== r.expectedGeneration) return { moved: false, locked: false };
  if (lockedOut(row, r.stale)) return { moved: false, locked: true };
  const active = row.activePropolisId === null ? null : tables.vmm.get(row.activePropolisId);
  // A start may take over an instance whose VMM an unwound saga left behind (#5858).
  if (active != null && active.state !== 'SagaUnwound') return { moved: false, locked: false };
  if (row.state !== 'NoVmm' && row.state !== 'Failed' && active?.state !== 'SagaUnwound') return { moved: false, locked: false };
  write(tables, () => {
    setRuntime(row, { ...runtimeFields(row), state: 'Vmm', activePropolisId: r.vmmId }, r.stale);
    row.intendedState = 'Running';
    if (r.autoRestart) row.timeLastAutoRestarted = nowMs;
  });
  if (!(row.state === 'Vmm' && row.activePropolisId === r.vmmId && row.stateGeneration === r.expectedGeneration + 1)) panic(`instance ${r.instanceId}: move to starting did not make ${r.vmmId} active one generation up`);
  return { moved: true, locked: false };
}

/**
 * Runtime writes outside the update saga wait while an updater holds the lock. Under the bug
 * switch nexus/lock-in-runtime-state (stale lock fields sent) the writer believes the lock is
 * part of the runtime it owns, and does not.
 */
function lockedOut(row: InstanceRow, stale: StaleLockFields): boolean {
  return stale === null && row.updaterId !== null;
}

export function instanceMoveToStartingUndo(tables: Tables, r: { instanceId: string; vmmId: string; stale: StaleLockFields; force: boolean }): { undone: boolean } {
  const row = liveInstance(tables, r.instanceId);
  // Only if nothing moved on since: else the VMM stays linked and is left SagaUnwound.
  if (row === null || row.activePropolisId !== r.vmmId) return { undone: false };
  if (!r.force && (row.targetPropolisId !== null || lockedOut(row, r.stale))) return { undone: false };
  write(tables, () => setRuntime(row, { ...runtimeFields(row), state: 'NoVmm', activePropolisId: null }, r.stale));
  if (!(row.state === 'NoVmm' && row.activePropolisId === null)) panic(`instance ${r.instanceId}: the undo of move to starting left a VMM active`);
  return { undone: true };
}

export function instanceClearFailed(tables: Tables, r: { instanceId: string; expectedGeneration: number; stale: StaleLockFields }): { updated: boolean } {
  const row = liveInstance(tables, r.instanceId);
  if (row === null || row.stateGeneration !== r.expectedGeneration || lockedOut(row, r.stale)) return { updated: false };
  // Failed with no VMM, or on a VMM an unwound saga left behind (which counts as no VMM).
  const active = row.activePropolisId === null ? null : tables.vmm.get(row.activePropolisId);
  const ok = (row.state === 'Failed' && active === null) || (row.state === 'Vmm' && active?.state === 'SagaUnwound');
  if (ok) write(tables, () => setRuntime(row, { ...runtimeFields(row), state: 'NoVmm', activePropolisId: null }, r.stale));
  if (!(!ok || (row.state === 'NoVmm' && row.stateGeneration === r.expectedGeneration + 1))) panic(`instance ${r.instanceId}: clearing Failed did not land one generation up`);
  return { updated: ok };
}

export function instanceDelete(tables: Tables, instanceId: string, nowMs: number): { deleted: boolean; reason: string | null; lockedBy?: string } {
  const row = tables.instance.get(instanceId);
  if (row === undefined) return { deleted: false, reason: 'not found' };
  if (row.timeDeleted !== null) return { deleted: true, reason: null };
  if (row.activePropolisId !== null) return { deleted: false, reason: 'cannot delete instance: instance is running or has not yet fully stopped' };
  // The updater lock does not stop a delete (project_delete_instance_in_states reads only the
  // state): an update saga holding it finds the instance gone and gives up.
  const lockedBy = row.updaterId;
  if (row.state !== 'NoVmm' && row.state !== 'Failed') return { deleted: false, reason: `instance cannot be deleted in state "${row.state}"` };
  const gen = row.stateGeneration;
  write(tables, () => {
    row.state = 'Destroyed';
    row.stateGeneration++;
    row.timeDeleted = nowMs;
  });
  // A deleted instance is gone for every reader (liveInstance), with no VMM left pointing at it.
  if (!(liveInstance(tables, instanceId) === null && row.stateGeneration === gen + 1 && row.activePropolisId === null)) panic(`instance ${instanceId}: the delete did not take`);
  return lockedBy === null ? { deleted: true, reason: null } : { deleted: true, reason: null, lockedBy };
}

function runtimeFields(row: InstanceRow): InstanceRuntime {
  const { state, stateGeneration, activePropolisId, targetPropolisId, migrationId } = row;
  return { state, stateGeneration, activePropolisId, targetPropolisId, migrationId };
}

/**
 * Write a new runtime state, one generation above the stored one (`next.stateGeneration` is not
 * read: the generation only ever moves by one). With `stale` lock fields (the
 * bug switch nexus/lock-in-runtime-state), the lock is overwritten with what the caller last read.
 */
export function setRuntime(row: InstanceRow, next: InstanceRuntime, stale: StaleLockFields): void {
  if ((next.state === 'Vmm') !== (next.activePropolisId !== null)) {
    panic(`instance ${row.id}: state ${next.state} with active VMM ${next.activePropolisId}`);
  }
  const { stateGeneration, updaterId, updaterGen } = row;
  row.state = next.state;
  row.activePropolisId = next.activePropolisId;
  row.targetPropolisId = next.targetPropolisId;
  row.migrationId = next.migrationId;
  row.stateGeneration++;
  if (stale !== null) {
    row.updaterId = stale.updaterId;
    row.updaterGen = stale.updaterGen;
  }
  // #5831: a runtime write never touches the lock, unless the bug switch sends stale lock fields.
  if (!(row.stateGeneration === stateGeneration + 1 && (stale !== null || (row.updaterId === updaterId && row.updaterGen === updaterGen)))) panic(`instance ${row.id}: a runtime write moved the generation or the lock`);
}
